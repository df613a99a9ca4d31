"""Files and objects of other tools: EDF+/BDF+ export and import (`edf`), MNE epochs (`mne`)."""

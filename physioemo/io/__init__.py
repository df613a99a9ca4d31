"""Files and objects of other tools: EDF+/BDF+ export and import (`edf`), MNE epochs (`mne`),
BIDS datasets (`bids`, through MNE-BIDS; its files in `bids_files`)."""

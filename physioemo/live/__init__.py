"""Live emotion recognition from a headset or a stream.

`source` is the one interface of what the pipeline reads from: `board` (any BrainFlow board,
the synthetic one by default, or BrainFlow's playback of a recording) and `lsl` (Lab Streaming
Layer streams through mne-lsl) implement it, and a lab's own device can too. `stream` runs the
loop over `buffer` (recent samples, windows), `quality` (non-finite samples, bad channels),
`featuriser` (causal features as offline, resampling, `channels` mapped onto the model's) and
`predictor` (a scikit-learn pipeline or a torch checkpoint); `views` and `web` show it, `record`
keeps it, and `app` is ``physioemo live``. BrainFlow, MNE, mne-lsl and torch load lazily.
"""


class LiveError(RuntimeError):
    """Something a lab can fix stops the live pipeline (board, montage, model); one line."""


class BoardError(LiveError):
    """A board could not be opened or read: BrainFlow's reason plus what to check."""


class MontageError(LiveError):
    """The board's channels cannot feed the model's (too few match, no positions)."""


__all__ = ["BoardError", "LiveError", "MontageError"]

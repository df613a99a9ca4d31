"""Live emotion recognition from a BrainFlow headset.

`board` opens any BrainFlow board (the synthetic one by default), `montage` maps the board's
channels onto a model's, `stream` turns polled samples into causal features and predictions,
`predictor` wraps a scikit-learn pipeline or a torch checkpoint behind one interface, and `app`
is the terminal front end of ``physioemo live``. BrainFlow, MNE and torch load lazily.
"""


class LiveError(RuntimeError):
    """Something a lab can fix stops the live pipeline (board, montage, model); one line."""


class BoardError(LiveError):
    """A board could not be opened or read: BrainFlow's reason plus what to check."""


class MontageError(LiveError):
    """The board's channels cannot feed the model's (too few match, no positions)."""


__all__ = ["BoardError", "LiveError", "MontageError"]

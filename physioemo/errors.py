"""Errors raised by physioemo."""


class DatasetFormatError(ValueError):
    """A dataset file exists but does not hold what its distribution promises.

    The message always names the file and the missing or malformed key (or field),
    on one line, so a lab can tell at once which download is damaged.
    """

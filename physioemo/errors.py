"""Errors and warnings of physioemo, and `clean`, which makes text from a file fit a message."""

from __future__ import annotations

import re

#: ANSI escape sequences (colours, cursor moves, OSC titles), then single control characters and
#: the Unicode marks that reorder or hide text (bidi overrides, zero-width characters)
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\n\r]+")


class DatasetFormatError(ValueError):
    """A dataset file exists but does not hold what its distribution promises.

    The message always names the file and the missing or malformed key (or field),
    on one line, so a lab can tell at once which download is damaged.
    """


class DataQualityWarning(UserWarning):
    """Data that loads but looks wrong (flat, railed or duplicated channels, trials too short
    for the window); the message names the file or trial and the channels."""


def clean(value, limit: int = 80) -> str:
    """`value` (any object, usually text read from a file) as safe one-line text.

    ANSI escape sequences and control characters are removed, tabs and line breaks become
    spaces, and text longer than `limit` characters is cut, saying how long it was.
    """
    text = value if isinstance(value, str) else str(value)
    window = 4 * limit + 64  # enough to fill `limit` after removals, never all of 20 MB
    head = _BREAKS.sub(" ", _CONTROLS.sub("", _ESCAPES.sub("", text[:window])))
    if len(head) > limit or len(text) > window:
        return f"{head[:limit]}... ({len(text):,} characters)"
    return head


def entry(registry: dict, name: str, what: str):
    """`registry[name]`; ValueError "unknown <what> <name>; available: ..." when it is not
    there."""
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}; available: {', '.join(registry)}")
    return registry[name]

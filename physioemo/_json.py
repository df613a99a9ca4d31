"""JSON helpers: the one digest of plain data, and plain copies of reports.

`digest` names cache entries, jobs and experiments: SHA-256 of the value's canonical JSON (keys
sorted, anything else as its string), cut to 24 hex digits (96 bits).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

DIGEST_LENGTH = 24


def digest(value) -> str:
    """Hex digest of `value`'s canonical JSON."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def plain(value):
    """A JSON-compatible copy of `value` (arrays to lists, numpy scalars to numbers)."""
    return json.loads(json.dumps(value, default=lambda v: np.asarray(v).tolist()))

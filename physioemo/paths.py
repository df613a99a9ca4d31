"""Where physioemo keeps files between runs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Cache folder: $PHYSIOEMO_CACHE, or $XDG_CACHE_HOME/physioemo, or ~/.cache/physioemo."""
    if os.environ.get("PHYSIOEMO_CACHE"):
        return Path(os.environ["PHYSIOEMO_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "physioemo"

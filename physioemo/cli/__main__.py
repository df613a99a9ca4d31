"""``python -m physioemo.cli``: the `physioemo` command."""

from . import run

run()

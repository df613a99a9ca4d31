"""BIDS files as physioemo writes and reads them: TSV tables, JSON sidecars and physio files,
with the error a damaged one raises (`DatasetFormatError` naming the file); MNE-BIDS on demand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import DatasetFormatError, clean
from ..recording import Signal

#: our unit -> its BIDS (CMIXF) spelling, where they differ
BIDS_UNITS = {"a.u.": "n/a", "degC": "oC"}


def mne_bids():
    """The mne_bids module; ValueError saying how to install it when it is missing."""
    try:
        import mne_bids
    except ModuleNotFoundError:
        raise ValueError("BIDS needs MNE-BIDS: pip install 'physioemo[bids]'") from None
    return mne_bids


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def value_format(values: list) -> str:
    """The BIDS ``Format`` of a column holding `values` (missing ones skipped)."""
    known = [v for v in values if not missing(v)]
    if known and all(isinstance(v, bool) for v in known):
        return "boolean"
    if known and all(isinstance(v, int) and not isinstance(v, bool) for v in known):
        return "integer"
    if known and all(isinstance(v, int | float) and not isinstance(v, bool) for v in known):
        return "number"
    return "string"


def parse(text: str, format: str | None, where: str):
    """A TSV cell as the value its column's BIDS ``Format`` says (text when it says none);
    "n/a" is NaN in a number column, else None. DatasetFormatError naming `where` (file and
    column) when the cell is not what its Format says."""
    if text == "n/a":
        return math.nan if format == "number" else None
    if format == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return {"number": float, "integer": int}.get(format, str)(text)
    except ValueError:
        raise DatasetFormatError(
            f"{where}: {clean(text, 40)!r} is not of Format {format}"
        ) from None


def _cell(value) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if missing(value):
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return " ".join(str(value).split("\t")).replace("\n", " ")


def write_tsv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """A BIDS TSV file: a header, then one line per row ("n/a" where a row lacks a column)."""
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(row.get(key)) for key in columns) for row in rows]
    write_text(path, "\n".join(lines) + "\n")


def read_tsv(path: Path) -> list[dict[str, str]]:
    """The rows of a BIDS TSV file as dicts of text; DatasetFormatError naming the file."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetFormatError(f"{path}: cannot read it as UTF-8 text ({error})") from None
    if not lines:
        raise DatasetFormatError(f"{path}: empty file (expected a header line)")
    header = lines[0].split("\t")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise DatasetFormatError(
                f"{path}: line {number} has {len(cells)} cells, the header {len(header)}"
            )
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def read_json(path: Path) -> dict:
    """A JSON object from `path`; DatasetFormatError naming the file."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DatasetFormatError(f"{path}: not a JSON file ({clean(error)})") from None
    if not isinstance(value, dict):
        raise DatasetFormatError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def write_json(path: Path, value: dict) -> None:
    write_text(path, json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_physio(path: Path, signal: Signal) -> Path:
    """`signal` as a BIDS physio file (gzipped TSV, no header, one column per channel, values
    as the shortest text that reads back bit for bit) and its sidecar; returns the sidecar."""
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(np.asarray(signal.data, dtype=float).T)
    frame.to_csv(path, sep="\t", header=False, index=False, na_rep="n/a", compression="gzip")
    unit = BIDS_UNITS.get(signal.unit, signal.unit)
    sidecar = path.with_name(path.name.replace(".tsv.gz", ".json"))
    write_json(sidecar, {
        "SamplingFrequency": signal.sfreq,
        "StartTime": 0.0,
        "Columns": signal.ch_names,
        "PhysioType": "generic",
        **{name: {"Units": unit} for name in signal.ch_names},
    })  # fmt: skip
    return sidecar


def read_physio(path: Path) -> tuple[Signal, float]:
    """A BIDS physio file as a `Signal` (named by its columns, unit of its first column's
    ``Units``, type misc) and its ``StartTime`` (s); DatasetFormatError naming the file."""
    import pandas as pd

    path = Path(path)
    sidecar = read_json(path.with_name(path.name.replace(".tsv.gz", ".json")))
    columns, sfreq = sidecar.get("Columns"), sidecar.get("SamplingFrequency")
    if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
        raise DatasetFormatError(f"{path}: sidecar key Columns is not a list of names")
    if not (isinstance(sfreq, int | float) and math.isfinite(sfreq) and sfreq > 0):
        raise DatasetFormatError(f"{path}: sidecar key SamplingFrequency is not a rate > 0")
    # exact decimal parsing: pandas 3's default, an option before (deprecated since)
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    try:
        frame = pd.read_csv(
            path, sep="\t", header=None, na_values=["n/a"], dtype=float, compression="gzip", **exact
        )
    except (OSError, ValueError, EOFError) as error:
        raise DatasetFormatError(f"{path}: not a numeric TSV ({clean(error)})") from None
    if frame.shape[1] != len(columns):
        raise DatasetFormatError(
            f"{path}: {frame.shape[1]} columns, its sidecar's Columns names {len(columns)}"
        )
    described = sidecar.get(columns[0])
    unit = described.get("Units") if isinstance(described, dict) else None
    unit = {v: k for k, v in BIDS_UNITS.items()}.get(
        unit, unit if isinstance(unit, str) else "a.u."
    )
    start = sidecar.get("StartTime", 0.0)
    start = float(start) if isinstance(start, int | float) else 0.0
    return Signal(frame.to_numpy().T, float(sfreq), columns, unit), start

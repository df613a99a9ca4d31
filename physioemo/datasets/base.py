"""`Dataset`: the recordings of one dataset, read one subject at a time."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from ..recording import Recording


class Dataset:
    """Recordings of one dataset plus what they share (rate, channels, modality).

    Subjects are read on demand by `read_subject(subject) -> list[Recording]`, so iterating
    holds one subject in memory at a time and reads each file once per pass.

    Attributes:
        name: registry name, e.g. "dreamer".
        subjects: subject ids in reading order.
        sfreq: sampling rate (Hz) of the recordings' `data`.
        ch_names: channel names of the recordings' `data`.
        modality: what `data` holds, e.g. "eeg".
        unit: unit of `data`, e.g. "uV".
        rating_names: the rating dimensions every recording carries.
        source: the file or folder it was read from.
    """

    def __init__(
        self,
        name: str,
        subjects: list[str],
        read_subject: Callable[[str], list[Recording]],
        *,
        sfreq: float,
        ch_names: list[str],
        modality: str,
        unit: str,
        rating_names: list[str],
        source: Path,
    ):
        self.name = name
        self.subjects = list(subjects)
        self._read_subject = read_subject
        self.sfreq = sfreq
        self.ch_names = list(ch_names)
        self.modality = modality
        self.unit = unit
        self.rating_names = list(rating_names)
        self.source = Path(source)

    def __repr__(self) -> str:
        return (
            f"<Dataset {self.name}: {len(self.subjects)} subjects, {len(self.ch_names)} channels "
            f"at {self.sfreq:g} Hz, from {self.source}>"
        )

    def subject(self, subject: str) -> list[Recording]:
        """The recordings of one subject."""
        if subject not in self.subjects:
            raise KeyError(f"{self.name} has no subject {subject!r}; subjects: {self.subjects}")
        return self._stamped(self._read_subject(subject))

    def iter_subjects(self) -> Iterator[tuple[str, list[Recording]]]:
        """Yield (subject, recordings) one subject at a time."""
        for subject in self.subjects:
            yield subject, self._stamped(self._read_subject(subject))

    def _stamped(self, recordings: list[Recording]) -> list[Recording]:
        """The recordings, each with meta "stimulus" (the clip or video it showed) from the
        dataset card's `stimulus_id` unless its loader set one; none for a dataset without a
        card or an id."""
        from .cards import CARDS

        card = CARDS.get(self.name)
        if card is None or not card.stimulus_id:
            return recordings
        for recording in recordings:
            if "stimulus" not in recording.meta:
                stimulus = card.stimulus_of(recording.session, recording.trial, recording.meta)
                recording.meta["stimulus"] = stimulus
        return recordings

    def __iter__(self) -> Iterator[Recording]:
        for _, recordings in self.iter_subjects():
            yield from recordings

    def info(self) -> dict:
        """Counts and layout, as printed by `physioemo info --json` (reads every subject once)."""
        n_recordings = 0
        seconds = 0.0
        ratings = {name: [] for name in self.rating_names}
        for recording in self:
            n_recordings += 1
            seconds += recording.duration
            for name in self.rating_names:
                ratings[name].append(float(recording.ratings[name]))
        return {
            "dataset": self.name,
            "source": str(self.source),
            "modality": self.modality,
            "unit": self.unit,
            "n_subjects": len(self.subjects),
            "n_recordings": n_recordings,
            "total_seconds": round(seconds, 3),
            "sfreq": self.sfreq,
            "n_channels": len(self.ch_names),
            "ch_names": self.ch_names,
            "labels": {name: rating_counts(values) for name, values in ratings.items()},
        }


def rating_counts(values: list[float]) -> dict[str, int]:
    """How many recordings have each rating: one key per value when every rating is a whole
    number (``"3": 12``; missing ones as ``"nan"``), else one per unit bin of the scale
    (``"4-5": 12`` counts 4 <= rating < 5; the top bin includes its upper end), so continuous
    ratings such as DEAP's give nine keys, not one per distinct value."""
    known = [value for value in values if not math.isnan(value)]
    counts: Counter = Counter()
    if all(value.is_integer() for value in known):
        counts.update(str(int(value)) for value in known)
    else:
        top = math.ceil(max(known)) - 1
        bins = [min(math.floor(value), top) for value in known]
        counts.update(f"{low}-{low + 1}" for low in bins)
    ordered = dict(sorted(counts.items(), key=lambda kv: float(kv[0].rpartition("-")[0] or kv[0])))
    missing = len(values) - len(known)
    return {**ordered, "nan": missing} if missing else ordered

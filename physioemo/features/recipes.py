"""Feature recipes: the one list of the windows a model can be fed, by name.

A recipe turns one `Recording` into windows (`Part`): values (n_windows, ...), window bounds in
samples of the recording's `data`, and optional per-window arrays. `compute` builds the window
sets of several recipes in one pass over the recordings, so each file is read once; an optional
`finish` step then sees a whole set (e.g. per-subject scaling).

Recipes say which model inputs they feed (`provides`, a key of `models.INPUTS`): "raw" windows,
"de" band tokens (n_channels, n_bands), "peripheral" feature vectors with a time input, or
"features" (flat vectors for the scikit-learn models); and what they read (`reads`): EEG,
physiology (`PHYSIOLOGY`) or both.

    from physioemo.features import recipes
    [windows] = recipes.compute(dataset, [(recipes.get("de"), {"window": 2.0})])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..errors import DataQualityWarning, entry
from ..recording import Recording, WindowSet, make_groups
from ..windows import Part, SignalTooShort
from . import papers
from .extraction import band_part, raw_part
from .fused import fused_part
from .peripheral_windows import STREAM_NAMES, finish_peripheral, peripheral_part
from .spectral import FILTER_ORDER

#: the modalities the peripheral features are computed from (a dataset card's names)
PHYSIOLOGY = frozenset(STREAM_NAMES)


@dataclass(frozen=True)
class FeatureRecipe:
    """A named way to cut recordings into model inputs.

    function(recording, **parameters) -> Part. defaults: every parameter the function takes,
    with its default. finish(windows, **parameters) -> WindowSet, run once on the whole set.
    reads: "eeg", "physiology" or "both" (`applies_to`).
    """

    name: str
    provides: str
    summary: str
    function: Callable[..., Part]
    defaults: dict[str, Any]
    finish: Callable[..., WindowSet] | None = None
    reads: str = "eeg"

    def applies_to(self, modalities) -> bool:
        """Whether a dataset carrying `modalities` (a card's) has what the recipe reads."""
        eeg, body = "eeg" in modalities, bool(PHYSIOLOGY.intersection(modalities))
        return {"eeg": eeg, "physiology": body, "both": eeg and body}[self.reads]

    def parameters(self, **overrides) -> dict[str, Any]:
        """The defaults updated with the overrides that are not None; unknown names refused."""
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"feature recipe {self.name!r} takes no {', '.join(unknown)}; "
                f"it takes {', '.join(self.defaults) or 'nothing'}"
            )
        return {**self.defaults, **{k: v for k, v in overrides.items() if v is not None}}


_BANDS = {"window": 1.0, "stride": None, "baseline": "auto", "bands": None}
RECIPES = {
    recipe.name: recipe
    for recipe in (
        FeatureRecipe(
            "de",
            "de",
            "differential entropy per band and channel (zero-phase order-4 Butterworth "
            "band-pass, filter_order 3 for SEED/LibEER; ln), 1-s windows, baseline features "
            "subtracted when there is a baseline",
            band_part,
            {"kind": "de", **_BANDS, "zero_phase": True, "filter_order": FILTER_ORDER},
        ),
        FeatureRecipe(
            "bp",
            "de",
            "log band power per band and channel (Welch), 1-s windows, baseline subtracted",
            band_part,
            {"kind": "bp", **_BANDS},
        ),
        FeatureRecipe(
            "psd_de",
            "de",
            "DE from the periodogram (SEED-style), 1-s windows, baseline subtracted",
            band_part,
            {"kind": "psd_de", **_BANDS},
        ),
        FeatureRecipe(
            "raw",
            "raw",
            "raw 1-s windows, each channel z-scored by the trial's baseline when there is one",
            raw_part,
            {"window": 1.0, "stride": None, "baseline": "auto"},
        ),
        FeatureRecipe(
            "peripheral",
            "peripheral",
            "peripheral features per 60-s window (heart rate and HRV from ECG or PPG, breathing, "
            "skin temperature, motion, SCRs; no EDA level unless asked) with time input and EDA "
            "target",
            peripheral_part,
            {"window": 60.0, "stride": 5.0, "heart": "auto", "inputs": "auto", "causal": False},
            finish_peripheral,
            reads="physiology",
        ),
        FeatureRecipe(
            "de+peripheral",
            "features",
            "EEG and physiology fused: DE per channel and band (baseline subtracted) and the "
            "peripheral features of the same 10-s windows, every 5 s",
            fused_part,
            {
                "window": 10.0,
                "stride": 5.0,
                "baseline": "auto",
                "bands": None,
                "heart": "auto",
                "inputs": "auto",
                "causal": False,
                "filter_order": FILTER_ORDER,
            },
            finish_peripheral,
            reads="both",
        ),
        FeatureRecipe(
            "rbtransformer-bde",
            "de",
            "RBTransformer's tokens: per window global z-score, order-5 Butterworth lfilter, "
            "bands 4-8/8-14/14-31/31-49 Hz, DE in bits, minus the averaged 1-s baseline's; "
            "512-sample windows every 117 samples",
            papers.rbtransformer_bde,
            {"window": None, "stride": None, "baseline": "auto", "filter_sfreq": None},
        ),
        FeatureRecipe(
            "histn-raw",
            "raw",
            "HiSTN's inputs: last 60 s of each trial, z-scored by the middle 10 s of its "
            "baseline, divided by max |x| per channel; 1-s windows every 1/8 s (ours)",
            papers.histn_raw,
            {"seconds": 60.0, "window": 1.0, "stride": 0.125, "baseline_seconds": 10.0},
            papers.finish_histn_raw,
        ),
        FeatureRecipe(
            "peripheral-self-report",
            "peripheral",
            "the peripheral features plus PANAS positive/negative affect and SAM valence/arousal "
            "(the PINN paper's inputs; flagged as label proxies)",
            papers.peripheral_self_report,
            {"window": 60.0, "stride": 5.0, "heart": "chest_ecg"},
            papers.finish_self_report,
            reads="physiology",
        ),
    )
}


class NoWindows(ValueError):
    """No recording gave a window (every trial shorter than one, or none given)."""


def available() -> list[str]:
    """Recipe names `get` accepts."""
    return list(RECIPES)


def get(name: str) -> FeatureRecipe:
    return entry(RECIPES, name, "feature recipe")


def compute(
    recordings: Iterable[Recording],
    requests: list[tuple[FeatureRecipe, dict]],
    progress: bool = False,
) -> list[WindowSet]:
    """The window sets of several (recipe, parameters) requests in one pass over `recordings`.

    Each set's info records the recipe, its kind (the band feature, or the recipe's name), its
    parameters, the rate, the channel names, for named feature vectors "feature_names", and
    the dataset's name when `recordings` is a `Dataset` ("dataset"). A trial (or its baseline)
    shorter than one window, or that gives no window, is skipped, all such trials named in one
    `DataQualityWarning` per recipe; ValueError when no trial is long enough.
    """
    parts: list[list[WindowSet]] = [[] for _ in requests]
    names: list[tuple | None] = [None for _ in requests]  # of the values, when named
    short: list[list[tuple[Recording, str]]] = [[] for _ in requests]
    first = None
    # disable=None: a bar only on a terminal, never carriage returns in a log file
    bar = tqdm(recordings, desc="windows", unit="trial", disable=None if progress else True)
    for recording in bar:
        first = first or recording
        for index, (recipe, parameters) in enumerate(requests):
            try:
                part = _part(recipe, recording, parameters)
            except SignalTooShort as error:
                short[index].append((recording, str(error)))
                continue
            n = len(part.X)
            if n == 0:  # a recipe that gives no windows rather than raising SignalTooShort
                window = parameters.get("window")
                short[index].append(
                    (recording, f"no {window:g}-s window fits in its {recording.duration:g} s")
                )
                continue
            names[index] = names[index] or part.names
            ratings = {k: np.full(n, float(v)) for k, v in recording.ratings.items()}
            trial = (recording.subject, recording.session, recording.trial)
            stimulus = recording.meta.get("stimulus", "")
            groups = make_groups(n, *trial, part.starts, part.stops, stimulus)
            parts[index].append(
                WindowSet(part.X.astype(np.float32), groups, ratings, {}, part.extra)
            )
    if first is None:
        raise NoWindows("no recordings to cut into windows")
    sets = []
    for collected, skipped, named, (recipe, parameters) in zip(
        parts, short, names, requests, strict=True
    ):
        if skipped:
            _skip_short(recipe, skipped, bool(collected))
        info = {
            "recipe": recipe.name,
            "provides": recipe.provides,
            "kind": recipe.name,
            **parameters,
            "sfreq": first.sfreq,
            "ch_names": list(first.ch_names),
            **({"feature_names": list(named)} if named else {}),
        }
        if isinstance(getattr(recordings, "name", None), str):
            info["dataset"] = recordings.name
        windows = WindowSet.concatenate(collected, info)
        sets.append(recipe.finish(windows, **parameters) if recipe.finish else windows)
    return sets


def _skip_short(recipe, skipped: list[tuple[Recording, str]], kept_some: bool) -> None:
    """One warning naming the trials too short for a window (an error when all are)."""
    if not kept_some:
        raise NoWindows(
            f"{recipe.name}: every trial is shorter than one window, e.g. subject "
            f"{skipped[0][0].subject} trial {skipped[0][0].trial}: {skipped[0][1]}"
        )
    names = [
        f"subject {r.subject} session {r.session} trial {r.trial}"
        + (f" ({r.meta['file']})" if "file" in r.meta else "")
        + f": {reason}"
        for r, reason in skipped[:5]
    ]
    more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    warnings.warn(
        f"{recipe.name}: skipped {len(skipped)} trial(s) shorter than a window: "
        + "; ".join(names)
        + more,
        DataQualityWarning,
        stacklevel=3,
    )


def _part(recipe: FeatureRecipe, recording: Recording, parameters: dict) -> Part:
    """recipe.function on one recording; an error names the subject and trial. Data or a
    baseline holding NaN or infinite samples are refused (every window they reach would be
    NaN, and raw windows would carry them into a model silently)."""
    try:
        for name, values in (("signal", recording.data), ("baseline", recording.baseline)):
            if values is not None and not np.isfinite(values).all():
                channel, sample = np.argwhere(~np.isfinite(values))[0]
                raise ValueError(
                    f"its {name} holds {int((~np.isfinite(values)).sum())} NaN or infinite "
                    f"sample(s), the first in channel {recording.ch_names[channel]} at sample "
                    f"{sample}"
                )
        return recipe.function(recording, **parameters)
    except SignalTooShort:
        raise
    except ValueError as error:
        raise ValueError(
            f"{recipe.name} windows of subject {recording.subject} session {recording.session} "
            f"trial {recording.trial}: {error}"
        ) from error


def extract_windows(
    recordings: Iterable[Recording], kind="de", window=None, *, progress=False, **parameters
) -> WindowSet:
    """Windowed features of many recordings as one `WindowSet` (the feature recipe `kind`).

    kind: "de", "bp", "psd_de" (X is (n_windows, n_channels, n_bands)) or "raw" (X is
    (n_windows, n_channels, n_window_samples)), or any other recipe name (`available()`).
    window (s) and parameters: the recipe's (e.g. stride, heart); None keeps a default; window,
    stride, bands and baseline are ignored by a recipe that has no such parameter, any other
    unknown name is refused. baseline defaults to "none" here (for "raw": "none" or "zscore").
    Several recipes in one pass: `compute`. progress: a bar over trials (on a terminal only).
    """
    recipe = get(kind)
    parameters = {"window": window, "baseline": "none", **parameters}
    common = ("window", "stride", "bands", "baseline")
    given = {k: v for k, v in parameters.items() if k in recipe.defaults or k not in common}
    return compute(recordings, [(recipe, recipe.parameters(**given))], progress=progress)[0]

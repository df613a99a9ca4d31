"""Adding a model, a feature recipe or a protocol is one entry in its registry: each test adds a
toy one in the test itself and runs it through the experiment engine, nothing else touched."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from physioemo import protocols
from physioemo.experiment import Experiment, run
from physioemo.features import recipes
from physioemo.models import MODELS, ModelSpec, Presets
from physioemo.models.base import SignatureMixin
from physioemo.protocols import PROTOCOLS, Protocol
from physioemo.windows import Part, window_bounds

SMALL = {"subjects": 3, "seconds": 8.0, "seed": 2}


class ToyNet(SignatureMixin, nn.Module):
    """Mean of each channel's bands, then a linear layer: (batch, n_chans, n_bands) -> logits."""

    def __init__(self, **signature):
        super().__init__(**signature)
        self.linear = nn.Linear(self.n_chans, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.mean(dim=-1))


def channel_means(recording, window=1.0):
    """Toy recipe: the mean of each channel over 1-s windows, (n_windows, n_channels, 1)."""
    starts, stops = window_bounds(recording.n_times, recording.sfreq, window)
    values = np.stack(
        [recording.data[:, a:b].mean(axis=1) for a, b in zip(starts, stops, strict=True)]
    )
    return Part(values[:, :, None], starts, stops)


class FirstHalfSecondHalf(Protocol):
    """Toy protocol: per subject, train on the first half of its trials and test on the rest,
    then the other way round."""

    name = "halves"
    unit = "trial"

    def __init__(self, random_state=0, inner_cv=None, inner_kwargs=None):
        self.random_state = random_state
        self.inner_cv = inner_cv
        self.inner_kwargs = inner_kwargs

    def get_n_splits(self, X=None, y=None, groups=None):
        return 2 * np.unique(groups["subject"]).size

    def _splits(self, groups, y):
        for subject in np.unique(groups["subject"]):
            mine = groups["subject"] == subject
            trials = np.unique(groups["trial"][mine])
            first = mine & np.isin(groups["trial"], trials[: trials.size // 2])
            yield np.flatnonzero(first), np.flatnonzero(mine & ~first)
            yield np.flatnonzero(mine & ~first), np.flatnonzero(first)


def run_rows(tmp_path, **experiment) -> list[dict]:
    setup = {"dimensions": ["arousal"], "synthetic": SMALL, "n_splits": 2, **experiment}
    summary = run(Experiment(**setup), out=tmp_path / "run", echo=lambda *_: None, report=False)
    assert summary["failures"] == []
    return summary["summary"]


def test_toy_model_is_one_registry_entry(tmp_path, monkeypatch):
    entry = ModelSpec(f"{__name__}:ToyNet", "de", "toy", presets=Presets("dgcnn", "dgcnn-quick"))
    monkeypatch.setitem(MODELS, "toy", entry)
    [row] = run_rows(tmp_path, models=["toy"], protocols=["subject-dependent"])
    assert (row["model"], row["features"], row["n_subjects"]) == ("toy", "de", 3)
    assert 0 <= row["accuracy"] <= 1


def test_toy_recipe_is_one_registry_entry(tmp_path, monkeypatch):
    recipe = recipes.FeatureRecipe("channel-means", "de", "toy", channel_means, {"window": 1.0})
    monkeypatch.setitem(recipes.RECIPES, "channel-means", recipe)
    [row] = run_rows(
        tmp_path, models=["logreg"], features=["channel-means"], protocols=["subject-dependent"]
    )
    assert (row["features"], row["n_subjects"]) == ("channel-means", 3)


def test_toy_protocol_is_one_registry_entry(tmp_path, monkeypatch):
    monkeypatch.setitem(PROTOCOLS, "halves", FirstHalfSecondHalf)
    assert isinstance(protocols.get("halves"), FirstHalfSecondHalf)
    [row] = run_rows(tmp_path, models=["logreg"], protocols=["halves"])
    assert (row["protocol"], row["n_jobs"], row["leaks"]) == ("halves", 6, False)

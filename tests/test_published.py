"""The papers' published figures: each names a protocol, recipe, label scheme and metric that
exist, so a run can be matched to it."""

import numpy as np
import pytest

from physioemo import labels, protocols
from physioemo.datasets import CARDS
from physioemo.evaluation.metrics import scores
from physioemo.evaluation.published import PUBLISHED, published

# every key scores() can give, from one call that asks for all of them
KEYS = set(
    scores(
        np.array([0, 1, 2, 1]),
        np.array([0, 1, 1, 1]),
        np.full((4, 3), 1 / 3),
        n_classes=3,
        ordinal=True,
        train_majority=1,
        eda_true=np.arange(4.0),
        eda_pred=np.arange(4.0) ** 2,
    )
)


@pytest.mark.parametrize("row", PUBLISHED, ids=lambda r: f"{r.paper}-{r.dataset}-{r.metric}")
def test_each_figure_points_at_something_that_runs(row):
    assert row.protocol in protocols.PROTOCOLS and row.dataset in CARDS
    assert row.dataset in protocols.PROTOCOLS[row.protocol].datasets
    assert row.metric in KEYS
    assert row.source.startswith("arXiv ")
    if row.labels in ("binary", "ordinal"):
        labels.scheme(row.dataset, row.dimension, row.labels)
    else:
        assert labels.categorical(row.dataset, row.labels).dimension == row.dimension
    assert 0 < row.value < 1


def test_the_headline_numbers():
    histn = {(r.protocol, r.dimension): r.value for r in published(paper="histn")}
    assert histn == {
        ("histn-sd", "valence"): 0.9682,
        ("histn-sd", "arousal"): 0.9562,
        ("histn-si", "valence"): 0.7834,
        ("histn-si", "arousal"): 0.8159,
    }
    assert len(published(paper="rbtransformer")) == 13  # the paper's 13 tasks
    [dreamer_arousal] = published(dataset="dreamer", labels="binary", dimension="arousal")
    assert (dreamer_arousal.value, dreamer_arousal.std) == pytest.approx((0.9974, 0.0006))
    pinn = {r.metric: r.value for r in published(paper="pinn")}
    assert pinn == {"eda_rmse": 0.0362, "eda_pearson_r": 0.9919, "macro_f1": 0.9408}
    with pytest.raises(ValueError, match="no field table"):
        published(table="I")

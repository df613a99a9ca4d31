"""Comparisons between result rows: a planted difference between two models is found, two
models of equal skill are not told apart, and `physioemo compare` prints the matrix of a run."""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from physioemo import protocols
from physioemo.cli import main
from physioemo.evaluation import plots
from physioemo.evaluation.comparisons import compare, matrices
from physioemo.evaluation.summary import summarise
from physioemo.experiment import Experiment, cross_validate, run
from physioemo.recording import WindowSet, make_groups

#: the noise around the label in each feature column: 0 and 1 equally informative (different
#: noise), 2 much less
NOISE = (0.5, 0.5, 4.0)


def noisy_copies(n_subjects=12, n_trials=12, per_trial=12, seed=0) -> tuple[WindowSet, np.ndarray]:
    """Windows whose feature j is the trial's label plus Gaussian noise of sd NOISE[j]."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for subject in range(n_subjects):
        for trial, label in enumerate(rng.permutation(np.arange(n_trials) % 2)):
            starts = np.arange(per_trial) * 128
            parts.append(make_groups(per_trial, f"s{subject:02d}", 1, trial, starts, starts + 128))
            labels.append(np.full(per_trial, label))
    y = np.concatenate(labels)
    X = y[:, None] + rng.normal(size=(len(y), len(NOISE))) * np.array(NOISE)
    return WindowSet(X, np.concatenate(parts), {"valence": y.astype(float)}, {}), y


def reading(column: int):
    """Logistic regression on one feature column."""
    one = ColumnTransformer([("one", "passthrough", [column])])
    return make_pipeline(one, LogisticRegression())


@pytest.fixture(scope="module")
def compared():
    """Three models under two protocols on 12 subjects, and the first model's jobs again
    under another name (the same model twice): 8 rows, 28 pairs. With 12 subjects the
    smallest Wilcoxon p is 2 / 4096, 0.014 after Holm over 28 pairs (10 subjects: 0.055)."""
    windows, y = noisy_copies()
    rows = []
    for name in ("subject-independent", "subject-dependent"):
        protocol = protocols.get(name, **({"n_splits": 3} if name == "subject-dependent" else {}))
        for model, column in (("sharp", 0), ("twin", 1), ("blunt", 2)):
            found = cross_validate(windows, y, reading(column), protocol, dimension="valence")
            rows += [{**row, "model": model} for row in found]
    rows += [{**row, "model": "sharp-again"} for row in rows if row["model"] == "sharp"]
    comparisons = compare(summarise(rows))
    pairs = {
        (p["a"]["model"], p["b"]["model"], p["a"]["protocol"]): p
        for p in comparisons["pairs"]
        if p["a"]["protocol"] == p["b"]["protocol"]
    }
    return comparisons, pairs


@pytest.mark.parametrize("protocol", ["subject-independent", "subject-dependent"])
def test_a_planted_difference_is_found(compared, protocol):
    _, pairs = compared
    pair = pairs["blunt", "sharp", protocol]  # rows in table order: blunt minus sharp
    low, high = pair["difference_ci"]
    assert pair["difference"] < -10 and high < -5  # points of balanced accuracy
    assert pair["wilcoxon"]["p_holm"] < 0.05 and pair["t_test"]["p_holm"] < 0.05
    assert pair["rank_biserial"] == -1.0 and pair["rank_biserial_ci"][1] < -0.5
    assert pair["t_test"]["folds"] == (12 if protocol == "subject-independent" else 36)


@pytest.mark.parametrize("protocol", ["subject-independent", "subject-dependent"])
def test_models_of_equal_skill_are_not_told_apart(compared, protocol):
    _, pairs = compared
    twins = pairs["sharp", "twin", protocol]  # equally noisy copies of the label
    assert twins["wilcoxon"]["p_holm"] > 0.05 and twins["t_test"]["p_holm"] > 0.05
    low, high = twins["difference_ci"]
    assert low < 0 < high
    identical = pairs["sharp", "sharp-again", protocol]  # the same model twice
    assert identical["difference"] == 0 and identical["difference_ci"] == (0.0, 0.0)
    assert identical["wilcoxon"]["p"] == 1.0 and identical["t_test"]["p"] == 1.0


def test_ranks_and_the_critical_difference_diagram(compared):
    comparisons, _ = compared
    [ranked] = comparisons["ranks"]  # one target: both protocols' rows ranked together
    assert len(ranked["labels"]) == 8 and ranked["subjects"] == 12
    order = [ranked["labels"][i] for i in np.argsort(ranked["mean_ranks"])]
    assert order[-1].startswith("blunt") and order[-2].startswith("blunt")
    assert sum(ranked["mean_ranks"]) == pytest.approx(8 * 9 / 2)  # ranks 1..8 per subject
    assert ranked["friedman"]["p"] < 0.01
    assert plots.cliques([1.0, 1.5, 4.0], 1.0) == [(0, 1)]
    assert plots.cliques([1.0, 1.5, 2.2, 4.0], 1.0) == [(0, 1), (1, 2)]
    figure = plots.critical_difference(ranked["labels"], ranked["mean_ranks"], ranked["cd"], "t")
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert f"CD = {ranked['cd']:.2f}" in texts
    assert sum(text.startswith("blunt") for text in texts) == 2
    [(title, head, rows)] = matrices(comparisons)
    assert head[1:] == ranked["labels"] and len(rows) == 8
    assert all(rows[i][i + 1] == "" for i in range(8))  # the diagonal


def test_compare_prints_the_matrix_of_a_run(tmp_path, capsys):
    experiment = Experiment(
        models=["logreg", "svm"],
        protocols=["subject-dependent"],
        dimensions=["arousal"],
        synthetic={"subjects": 4, "seconds": 8.0, "seed": 2},
        n_splits=2,
    )
    run(experiment, out=tmp_path / "run", echo=lambda *_: None, report=False)
    assert main(["compare", str(tmp_path / "run"), "--metric", "macro_f1"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Paired comparisons on macro_f1")
    assert "| logreg (de) subject-dependent | svm (de) subject-dependent |" in printed
    assert "Mean ranks, dreamer binary arousal (4 subjects" in printed
    assert main(["compare", str(tmp_path / "nowhere")]) == 2
    assert "is not a run folder" in capsys.readouterr().err

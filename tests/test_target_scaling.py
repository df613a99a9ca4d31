"""The PINN's EDA target is min-max scaled per subject on each fold's training windows only:
a held-out subject's own targets never set its scale."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from physioemo import protocols
from physioemo.experiment import cross_validate
from physioemo.features.peripheral_windows import minmax_per_subject
from physioemo.recording import WindowSet, make_groups


def test_minmax_per_subject_fitted_on_some_rows():
    values = np.array([1.0, 3.0, 2.0, 10.0, 20.0, 40.0, 5.0, 7.0])
    subjects = np.array(["a", "a", "a", "b", "b", "b", "c", "c"])
    # a fitted on rows 0, 2 (range 1..2), b on 3, 4 (10..20); c held out: mean range 5.5..11
    scaled = minmax_per_subject(values, subjects, fit=[0, 2, 3, 4])
    expected = [0, 2, 1, 0, 1, 3, (5 - 5.5) / 5.5, (7 - 5.5) / 5.5]
    np.testing.assert_allclose(scaled, expected)
    np.testing.assert_allclose(minmax_per_subject(values, subjects)[:3], [0, 1, 0.5])


class RecordsTargets(ClassifierMixin, BaseEstimator):
    """Predicts class 0 and EDA 0; keeps the EDA targets each fit saw (class attribute)."""

    __metadata_request__fit = {"t": True, "eda": True}
    __metadata_request__predict = {"t": True}
    seen: list = []

    def fit(self, X, y, t, eda):
        RecordsTargets.seen.append(np.asarray(eda).copy())
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X, t):
        return np.zeros(len(X), dtype=int)

    def predict_eda(self, X, t):
        return np.zeros(len(X))


def windows_with_eda(scale_of_s2: float) -> WindowSet:
    parts, eda = [], []
    for number, subject in enumerate(("s0", "s1", "s2")):
        for trial in (1, 2):
            starts = np.arange(5) * 100
            parts.append(make_groups(5, subject, 1, trial, starts, starts + 100))
            level = (number + 1) * np.linspace(1.0, 2.0, 5) * trial
            eda.append(level * (scale_of_s2 if subject == "s2" else 1.0))
    groups = np.concatenate(parts)
    y = np.tile(np.repeat([0, 1], 5), 3)
    extra = {"eda": np.concatenate(eda), "t": np.tile(np.linspace(0, 1, 5), 6)}
    X = np.random.default_rng(0).normal(size=(30, 3))
    return WindowSet(X, groups, {"condition": y.astype(float)}, {"sfreq": 100.0}, extra), y


def test_each_fold_scales_the_target_on_its_training_windows():
    results = {}
    for scale in (1.0, 10.0):  # s2's EDA ten times larger
        RecordsTargets.seen = []
        windows, y = windows_with_eda(scale)
        folds = cross_validate(windows, y, RecordsTargets(), protocols.get("subject-independent"))
        results[scale] = (folds, list(RecordsTargets.seen))
    (plain, seen_plain), (bigger, seen_bigger) = results[1.0], results[10.0]
    s2_out = [i for i, fold in enumerate(plain) if fold["subjects"] == "s2"][0]
    # the fold holding s2 out trains on the same targets whatever s2's EDA is
    np.testing.assert_array_equal(seen_plain[s2_out], seen_bigger[s2_out])
    # s0 (EDA 1..4) and s1 (2..8) train, each on its own range
    np.testing.assert_allclose(
        seen_plain[s2_out][:10], (windows_with_eda(1.0)[0].extra["eda"][:10] - 1) / 3
    )
    # s2's test targets take the training subjects' mean range, 1.5..6
    raw = 10.0 * 3 * np.r_[np.linspace(1, 2, 5), 2 * np.linspace(1, 2, 5)]
    tested = bigger[s2_out]["predictions"]["eda_true"]
    np.testing.assert_allclose(tested, (raw - 1.5) / 4.5)
    assert tested.max() > 1  # outside [0, 1]: its own range was not used

"""Label schemes on DREAMER's 1-5 scale."""

import numpy as np
import pytest

from physioemo.datasets import CARDS
from physioemo.labels import make, scheme


def test_binary_threshold_is_inclusive_and_configurable():
    ratings = {"valence": np.array([1, 2, 3, 4, 5])}
    assert scheme("dreamer", "valence")(ratings).tolist() == [0, 0, 1, 1, 1]
    assert scheme("dreamer", "valence", threshold=4)(ratings).tolist() == [0, 0, 0, 1, 1]


def test_ordinal_is_score_minus_one():
    labels = scheme("dreamer", "arousal", "ordinal")
    assert labels({"arousal": np.array([5, 1, 3])}).tolist() == [4, 0, 2]
    assert labels.n_classes == 5 and labels.class_names[0] == "1"


def test_errors_name_the_problem():
    with pytest.raises(KeyError, match="valence"):
        scheme("dreamer", "valence")({"arousal": np.array([1])})
    with pytest.raises(ValueError, match="outside the scale 1..5"):
        scheme("dreamer", "valence")({"valence": np.array([0, 6])})
    with pytest.raises(ValueError, match="1 valence rating.*missing"):
        scheme("dreamer", "valence")({"valence": np.array([2, np.nan])})
    with pytest.raises(ValueError, match="binary' or 'ordinal"):
        scheme("dreamer", "valence", "ternary")


@pytest.mark.parametrize("threshold", [100.0, 1.0, float("nan"), float("inf")])
def test_threshold_that_makes_one_class_is_refused(threshold):
    with pytest.raises(ValueError, match="threshold"):
        scheme("dreamer", "valence", threshold=threshold)


def test_registry_makes_every_scheme_of_every_dataset():
    for dataset, card in CARDS.items():
        known = card.labels
        for name in known.schemes:
            for dimension in known.dimensions:
                labels = make(dataset, name, dimension)
                assert labels.n_classes == len(labels.class_names) >= 2
    assert make("wesad", "binary", "condition").class_names == ("non-stress", "stress")
    assert make("deap", "ordinal", "liking").ordinal
    with pytest.raises(ValueError, match="seed has no label scheme 'binary'; it has 3-class"):
        make("seed", "binary", "emotion")
    with pytest.raises(ValueError, match="no rating dimension 'liking'"):
        make("dreamer", "binary", "liking")

"""Label schemes on DREAMER's 1-5 scale."""

import numpy as np
import pytest

from physioemo.labels import scheme


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

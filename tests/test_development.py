"""Development subjects: `--development` draws the synthetic data from their own seed, so
recipes can be chosen on subjects that are never reported."""

import numpy as np

from physioemo.cli import build_parser
from physioemo.cli.options import given
from physioemo.datasets.cards import DEVELOPMENT_SEED
from physioemo.datasets.synthetic.dreamer import simulate_dreamer
from physioemo.experiment import Experiment


def test_development_flag_sets_the_development_seed():
    args = build_parser().parse_args(["bench", "--development", "--models", "logreg"])
    assert given(args, Experiment)["synthetic"] == {"seed": DEVELOPMENT_SEED}
    assert DEVELOPMENT_SEED != Experiment().synthetic_for("dreamer")["seed"]  # the reported 0
    plain = build_parser().parse_args(["bench", "--models", "logreg"])
    assert "synthetic" not in given(plain, Experiment)


def test_development_subjects_are_not_evaluation_subjects():
    evaluation = simulate_dreamer(subjects=3, seconds=4.0, seed=0, trials=2)
    development = simulate_dreamer(subjects=3, seconds=4.0, seed=DEVELOPMENT_SEED, trials=2)
    for mine in development:
        for other in evaluation:  # no subject, clip or rating drawn twice
            assert not np.allclose(mine["scores"], other["scores"])
            assert all(
                a.shape != b.shape or not np.allclose(a, b)
                for a, b in zip(mine["eeg"], other["eeg"], strict=True)
            )

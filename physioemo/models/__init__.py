"""Models: scikit-learn baselines (`baselines`)."""

from .baselines import BASELINES, make_baseline

__all__ = ["BASELINES", "make_baseline"]

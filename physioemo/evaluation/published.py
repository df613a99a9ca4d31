"""The numbers the three papers published, as data with their source (papers.md), so a run
of a paper's protocol can be printed beside them.

Each `Published` names what a run must match to be comparable: the dataset, the protocol
(a `protocols.PROTOCOLS` name), the rating dimension, the label scheme (a `labels` scheme:
"binary" or "ordinal" for rating scales, a categorical name such as "3-class"), and the metric
(a key of `metrics.scores`). Accuracy and F1 are fractions, as `metrics.scores` gives them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    """One published figure: value (and std when given) of `metric` under these conditions."""

    paper: str
    source: str
    dataset: str
    protocol: str
    dimension: str
    labels: str
    metric: str
    value: float
    std: float | None = None
    note: str = ""


_HISTN = "arXiv 2408.15255, abstract"
_HISTN_NOTE = (
    "mean over the 23 subjects (subject-dependent: the 10 folds averaged per subject first); "
    "the headline F1 is weighted F1 (the authors' code)"
)
_RBT_NOTE = "mean +- std over the 5 folds"
_PINN = "arXiv 2505.18169, abstract"
_PINN_NOTE = "average over 5 folds; the class set is not stated (3 classes is papers.md's reading)"


def _histn(protocol: str, dimension: str, f1: float) -> Published:
    """A HiSTN row: weighted F1 of the 5-class task on DREAMER."""
    return Published(
        "histn", _HISTN, "dreamer", protocol, dimension, "ordinal", "weighted_f1", f1,
        note=_HISTN_NOTE,
    )  # fmt: skip


def _rbtransformer(dataset: str, labels: str, table: str, values: dict) -> list[Published]:
    """RBTransformer rows of one table: values {dimension: (mean %, std %)} of accuracy."""
    return [
        Published(
            "rbtransformer",
            f"arXiv 2511.13954, Tab. {table} (as the authors' README gives it)",
            dataset,
            "rbtransformer-paper",
            dimension,
            labels,
            "accuracy",
            mean / 100,
            std / 100,
            _RBT_NOTE,
        )
        for dimension, (mean, std) in values.items()
    ]


def _pinn(metric: str, value: float, note: str = "") -> Published:
    """A PINN row: WESAD, 3 classes (papers.md's reading), the paper's 5-fold CV."""
    return Published(
        "pinn", _PINN, "wesad", "pinn-paper", "condition", "3-class", metric, value,
        note=_PINN_NOTE + note,
    )  # fmt: skip


PUBLISHED: tuple[Published, ...] = (
    _histn("histn-sd", "valence", 0.9682),
    _histn("histn-sd", "arousal", 0.9562),
    _histn("histn-si", "valence", 0.7834),
    _histn("histn-si", "arousal", 0.8159),
    *_rbtransformer(
        "deap", "binary", "I",
        {"valence": (99.84, 0.02), "arousal": (99.83, 0.05), "dominance": (99.82, 0.06)},
    ),
    *_rbtransformer(
        "dreamer", "binary", "II",
        {"valence": (99.61, 0.05), "arousal": (99.74, 0.06), "dominance": (99.79, 0.04)},
    ),
    *_rbtransformer("seed", "3-class", "III", {"emotion": (99.51, 0.02)}),
    *_rbtransformer(
        "deap", "ordinal", "IV",
        {"valence": (99.87, 0.04), "arousal": (99.84, 0.04), "dominance": (99.87, 0.05)},
    ),
    *_rbtransformer(
        "dreamer", "ordinal", "V",
        {"valence": (99.54, 0.06), "arousal": (99.55, 0.04), "dominance": (99.60, 0.05)},
    ),
    _pinn("eda_rmse", 0.0362, "; RMSE of the EDA target min-max scaled per subject"),
    _pinn("eda_pearson_r", 0.9919),
    _pinn("macro_f1", 0.9408, "; the F1 averaging is not stated (compared with macro F1, ours)"),
)  # fmt: skip


def published(**match) -> list[Published]:
    """The published figures whose fields equal every given one, e.g.
    ``published(paper="histn", protocol="histn-sd")``."""
    fields = set(Published.__dataclass_fields__)
    unknown = sorted(set(match) - fields)
    if unknown:
        raise ValueError(f"Published has no field {', '.join(unknown)}; fields: {sorted(fields)}")
    return [row for row in PUBLISHED if all(getattr(row, k) == v for k, v in match.items())]


#: metrics a run's classification scores can be compared on, in order of preference
COMPARABLE = ("weighted_f1", "macro_f1", "accuracy")


def headline(dataset: str, protocol: str, dimension: str, labels: str) -> Published | None:
    """The published classification figure a run's row (dataset, protocol, dimension, label
    scheme) compares with: its `COMPARABLE` metric (None when the papers published none)."""
    found = published(dataset=dataset, protocol=protocol, dimension=dimension, labels=labels)
    ranked = sorted(
        (p for p in found if p.metric in COMPARABLE), key=lambda p: COMPARABLE.index(p.metric)
    )
    return ranked[0] if ranked else None

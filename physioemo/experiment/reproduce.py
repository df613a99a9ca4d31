"""A paper's protocol beside the honest one: `physioemo reproduce histn|rbtransformer|pinn`.

Each paper's own protocols run with its feature recipe and model, and so does the honest
protocol each of them is compared with (`evaluation.audit.COUNTERPARTS`), on the same data,
labels and model, as one experiment in a resumable run folder. The result is printed per
dimension beside the figure the paper published (`evaluation.published`) and the audit's
verdict; the difference between the paper protocol's score and the honest one is the
inflation the paper's protocol buys.

On synthetic data by default: the simulator writes files in the dataset's format, which is not
the dataset, so the published numbers are context, not a target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..datasets import card
from .spec import Experiment


@dataclass(frozen=True)
class Paper:
    """What reproducing one paper runs.

    protocols: the paper's (each brings its feature recipe); each runs beside its honest
    counterpart. features: the recipe the honest protocols read (the paper's own, or its
    inputs without the label proxies). labels, dimensions: per dataset, the published task.
    quick: synthetic sizes (subjects, seconds) of the quick profile; seconds: the clip length
    both profiles need at least (None: the engine's default). feature_options: per profile,
    recipe parameters.
    """

    models: tuple[str, ...]
    protocols: tuple[str, ...]
    features: str
    labels: dict[str, str]
    dimensions: dict[str, tuple[str, ...]]
    quick: dict
    seconds: float | None = None
    feature_options: dict = field(default_factory=dict)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self.labels)


PAPERS = {
    # HiSTN: 5-class ordinal DREAMER; histn-raw keeps each trial's last 60 s, so every synthetic
    # clip must last 60 s (clips vary by +-25 % around `seconds`: 81 s). Quick: a 2-s stride.
    "histn": Paper(
        models=("histn",),
        protocols=("histn-sd", "histn-si"),
        features="histn-raw",
        labels={"dreamer": "ordinal"},
        dimensions={"dreamer": ("valence", "arousal")},
        quick={"subjects": 3},
        seconds=81.0,
        feature_options={"quick": {"stride": 2.0}},
    ),
    # RBTransformer: binary DREAMER/DEAP (Tab. I, II), 3-class SEED (Tab. III), on its own tokens.
    "rbtransformer": Paper(
        models=("rbtransformer",),
        protocols=("rbtransformer-paper",),
        features="rbtransformer-bde",
        labels={"dreamer": "binary", "deap": "binary", "seed": "3-class"},
        dimensions={
            "dreamer": ("valence", "arousal", "dominance"),
            "deap": ("valence", "arousal", "dominance"),
            "seed": ("emotion",),
        },
        quick={"subjects": 3, "seconds": 20.0},
    ),
    # PINN: 3-class WESAD; the honest protocol reads the peripheral features without the
    # self-reports, which proxy the label.
    "pinn": Paper(
        models=("pinn",),
        protocols=("pinn-paper",),
        features="peripheral",
        labels={"wesad": "3-class"},
        dimensions={"wesad": ("condition",)},
        quick={"subjects": 6},
    ),
}


def experiment_for(
    paper: str,
    dataset: str | None = None,
    root: str | None = None,
    profile: str = "quick",
    models: list[str] | None = None,
    dimensions: list[str] | None = None,
    synthetic: dict | None = None,
) -> Experiment:
    """The experiment reproducing `paper` on `dataset` (default: its first): its protocols and
    their honest counterparts, its recipe, label scheme and dimensions, its models (or
    `models`); the quick profile runs the dataset's default dimensions among the published
    ones. Without `root`, synthetic data of the profile's size (`synthetic` overrides)."""
    from ..evaluation.audit import COUNTERPARTS

    chosen = PAPERS[paper]
    dataset = dataset or chosen.datasets[0]
    if dataset not in chosen.datasets:
        raise ValueError(
            f"{paper} published figures for {', '.join(chosen.datasets)}, not {dataset}"
        )
    honest = [COUNTERPARTS[p] for p in chosen.protocols]
    if not dimensions:
        dimensions = list(chosen.dimensions[dataset])
        if profile == "quick":  # the dataset's default dimensions among the published ones
            default = card(dataset).default_dimensions
            dimensions = [d for d in dimensions if d in default] or dimensions
    experiment = Experiment(
        datasets=[dataset],
        models=list(models or chosen.models),
        protocols=list(dict.fromkeys([*chosen.protocols, *honest])),
        features=[chosen.features],
        labels=[chosen.labels[dataset]],
        dimensions=list(dimensions),
        profile=profile,
        feature_options=dict(chosen.feature_options.get(profile, {})),
    )
    if root is None:
        experiment.synthetic = {**_sizes(chosen, dataset, profile), **(synthetic or {})}
    else:
        experiment.roots = {dataset: str(Path(root).resolve())}
    experiment.validate(f"reproduce {paper}")
    return experiment


def _sizes(paper: Paper, dataset: str, profile: str) -> dict:
    """Synthetic sizes: the quick profile's, or the real dataset's subject count (full)."""
    found = card(dataset)
    sizes = dict(found.synthetic)
    sizes.update(paper.quick if profile == "quick" else {"subjects": found.n_subjects})
    if paper.seconds:
        sizes["seconds"] = max(sizes["seconds"], paper.seconds)
    return sizes


def default_out(paper: str, experiment: Experiment) -> Path:
    """A stable folder per paper, dataset and profile, so running again resumes."""
    return Path("physioemo-runs") / (
        f"reproduce-{paper}-{experiment.datasets[0]}-{experiment.profile}"
    )


def compare(paper: str, exported: dict) -> list[dict]:
    """Per dimension, model and paper protocol: the paper protocol's score, the honest one's,
    the inflation (points, for scores that are fractions), the published figure and the audit
    verdicts, on each metric the paper published for it that the model's scores have
    (accuracy when none).

    exported: what `run.run` returns (summary, audit)."""
    from ..evaluation.audit import COUNTERPARTS, audit_key, inflation
    from ..evaluation.published import published

    chosen = PAPERS[paper]
    entries = {(e["protocol"], e["model"], e["dimension"]): e for e in exported["summary"]}
    audits = exported["audit"]
    found = []
    for (protocol, model, dimension), leaky in entries.items():
        if protocol not in chosen.protocols:
            continue
        honest = entries.get((COUNTERPARTS[protocol], model, dimension))
        figures = published(
            dataset=leaky["dataset"], protocol=protocol, dimension=dimension, labels=leaky["labels"]
        )
        metrics = [f.metric for f in figures if leaky.get(f.metric) is not None]
        for metric in metrics or ["accuracy"]:  # those this model's scores have
            figure = next((f for f in figures if f.metric == metric), None)
            row = {
                "dimension": dimension,
                "model": model,
                "protocol": protocol,
                "honest_protocol": COUNTERPARTS[protocol],
                "metric": metric,
                "paper_score": leaky.get(metric),
                "honest_score": None if honest is None else honest.get(metric),
                "published": None if figure is None else figure.value,
                "source": None if figure is None else figure.source,
                "verdict": audits.get(audit_key(leaky), {}).get("verdict", "not audited"),
                "honest_verdict": None
                if honest is None
                else audits.get(audit_key(honest), {}).get("verdict", "not audited"),
            }
            both = row["paper_score"] is not None and row["honest_score"] is not None
            row["inflation"] = (
                inflation(row["paper_score"], row["honest_score"])
                if both and not metric.startswith("eda")
                else None
            )
            found.append(row)
    return found


def format_comparison(rows: list[dict], notes: list[str] = ()) -> str:
    """The comparison as a Markdown table, then the sources of the published figures, each
    protocol's audit verdict and the `notes`."""
    from ..evaluation.summary import markdown

    if not rows:
        notes = [f"NOTE: {note}" for note in notes]
        return "\n\n".join(["No job of the paper's protocols has finished.", *notes])

    def score(value, metric):
        if value is None:
            return "-"
        return f"{value:.4f}" if metric.startswith("eda") else f"{100 * value:.1f}"

    head = ["dimension", "model", "metric", "paper protocol", "score", "honest protocol"]
    head += ["score", "inflation (points)", "published", "audit"]
    cells = []
    for row in rows:
        metric = row["metric"]
        cells.append(
            [row["dimension"], row["model"], metric, row["protocol"]]
            + [score(row["paper_score"], metric), row["honest_protocol"]]
            + [score(row["honest_score"], metric)]
            + ["-" if row["inflation"] is None else f"{row['inflation']:+.1f}"]
            + [score(row["published"], metric), row["verdict"].split(":")[0]]
        )
    lines = [markdown("", head, cells)]
    sources = sorted({row["source"] for row in rows if row["source"]})
    if sources:
        lines.append(
            "Published figures: " + "; ".join(sources) + " (real data, the paper's training)."
        )
    verdicts = {(row["protocol"], row["verdict"]) for row in rows}
    verdicts |= {
        (row["honest_protocol"], row["honest_verdict"]) for row in rows if row["honest_verdict"]
    }
    lines.append("\n".join(f"audit of {p}: {verdict}" for p, verdict in sorted(verdicts)))
    lines += [f"NOTE: {note}" for note in notes]
    return "\n\n".join(lines)


def notices(experiment: Experiment) -> list[str]:
    """What the reader must know before reading the numbers (profile, synthetic data)."""
    lines = []
    if experiment.profile == "quick":
        changed = ", ".join(f"{k}={v}" for k, v in experiment.feature_options.items())
        lines.append(
            "quick profile: the quick training presets (a few epochs)"
            + (f" and the recipe's {changed}" if changed else "")
            + ", not the paper's training; --profile full runs the paper's presets and recipes"
        )
    for dataset in experiment.datasets:
        if dataset not in experiment.roots:
            lines.append(
                f"synthetic data: physioemo's simulator in {dataset}'s file format, not "
                f"{dataset.upper()}; the published numbers are for the real dataset (give "
                "--root PATH to run on it)"
            )
    return lines


def reproduce(
    paper: str,
    experiment: Experiment,
    out=None,
    echo=print,
    **options,
) -> dict:
    """Run `experiment` (from `experiment_for`) into `out` (default: `default_out`), then
    print the comparison (`compare`). options: those of `run.run` (backend, jobs, progress,
    overwrite...). Returns run's result with "comparison" added."""
    from .run import run

    out = Path(out) if out is not None else default_out(paper, experiment)
    for line in notices(experiment):
        echo(f"NOTE: {line}")
    result = run(experiment, out=out, echo=echo, **options)
    result["comparison"] = rows = compare(paper, result)
    echo(f"\n{paper}: the paper's protocol beside the honest one\n")
    echo(format_comparison(rows, notices(experiment)))
    return result

"""A paper's protocol beside the honest one: `physioemo reproduce histn|rbtransformer|pinn`.

Each paper's own protocols run with its feature recipe and model, and so does the honest
protocol each of them is compared with (`evaluation.audit.COUNTERPARTS`), on the same data,
labels and model, as one experiment in a resumable run folder. The result is printed per
dimension beside the figure the paper published (`evaluation.published`) and the audit's
verdict; the difference between the paper protocol's score and the honest one is the
inflation the paper's protocol buys.

Like for like: every protocol of a pair trains the same preset (`plan.preset_for`: the quick
profile's stand-in of the recipe the full profile trains), and the notice says which and its
budget. Where a paper protocol changes more than the split (histn-sd also tests class-balanced
crops; pinn-paper also adds self-reports to the inputs), the steps between it and the honest
protocol run too (`Paper.steps`), so the inflation splits into its causes.

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
    recipe parameters. steps: per paper protocol, the protocols from it to its honest
    counterpart (the last), each changing one thing, with what it changes.
    """

    models: tuple[str, ...]
    protocols: tuple[str, ...]
    steps: dict[str, tuple[tuple[str, str], ...]]
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
        steps={
            "histn-sd": (
                ("histn-sd-windows", "test set: class-balanced crops -> every test window"),
                ("subject-dependent", "split: chunks of every trial -> whole trials"),
            ),
            "histn-si": (
                ("subject-independent", "split: no fine-tuning on the test subject's first 10 s"),
            ),
        },
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
        steps={
            "rbtransformer-paper": (
                ("subject-dependent", "split: all subjects' windows pooled -> whole trials"),
            ),
        },
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
        steps={
            "pinn-paper": (
                ("pinn-paper-no-self-report", "inputs: without the self-reports (PANAS, SAM)"),
                ("subject-independent", "split: pooled windows -> whole subjects"),
            ),
        },
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
    chosen = PAPERS[paper]
    dataset = dataset or chosen.datasets[0]
    if dataset not in chosen.datasets:
        raise ValueError(
            f"{paper} published figures for {', '.join(chosen.datasets)}, not {dataset}"
        )
    between = [step for p in chosen.protocols for step, _ in chosen.steps[p]]
    if not dimensions:
        dimensions = list(chosen.dimensions[dataset])
        if profile == "quick":  # the dataset's default dimensions among the published ones
            default = card(dataset).default_dimensions
            dimensions = [d for d in dimensions if d in default] or dimensions
    experiment = Experiment(
        datasets=[dataset],
        models=list(models or chosen.models),
        protocols=list(dict.fromkeys([*chosen.protocols, *between])),
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
    (accuracy when none); "steps": the `Paper.steps` from the paper protocol to the honest
    one, each with both scores and its points.

    exported: what `run.run` returns (summary, audit)."""
    from ..evaluation.published import published

    chosen = PAPERS[paper]
    entries = {(e["protocol"], e["model"], e["dimension"]): e for e in exported["summary"]}
    found = []
    for (protocol, model, dimension), leaky in entries.items():
        if protocol not in chosen.protocols:
            continue
        names = [protocol, *(step for step, _ in chosen.steps[protocol])]
        chain = [entries.get((name, model, dimension)) for name in names]
        figures = published(
            dataset=leaky["dataset"], protocol=protocol, dimension=dimension, labels=leaky["labels"]
        )
        metrics = [f.metric for f in figures if leaky.get(f.metric) is not None]
        for metric in metrics or ["accuracy"]:  # those this model's scores have
            figure = next((f for f in figures if f.metric == metric), None)
            scores = [None if entry is None else entry.get(metric) for entry in chain]
            row = {
                "dimension": dimension,
                "model": model,
                "protocol": protocol,
                "honest_protocol": names[-1],
                "metric": metric,
                "paper_score": scores[0],
                "honest_score": scores[-1],
                "inflation": _points(scores[0], scores[-1], metric),
                "published": None if figure is None else figure.value,
                "source": None if figure is None else figure.source,
                "verdict": _verdict(exported["audit"], leaky),
                "honest_verdict": None
                if chain[-1] is None
                else _verdict(exported["audit"], chain[-1]),
            }
            row["steps"] = [
                {"from": names[k], "to": names[k + 1], "change": change}
                | {"from_score": scores[k], "to_score": scores[k + 1]}
                | {"points": _points(scores[k], scores[k + 1], metric)}
                for k, (_, change) in enumerate(chosen.steps[protocol])
            ]
            found.append(row)
    return found


def _points(score, honest, metric: str) -> float | None:
    """Inflation in points of `score` over `honest` (None for EDA errors or a missing one)."""
    from ..evaluation.audit import inflation

    if score is None or honest is None or metric.startswith("eda"):
        return None
    return inflation(score, honest)


def _verdict(audits: dict, entry: dict) -> str:
    from ..evaluation.audit import audit_key

    return audits.get(audit_key(entry), {}).get("verdict", "not audited")


def _score(value, metric: str) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if metric.startswith("eda") else f"{100 * value:.1f}"


def _signed(points) -> str:
    return "-" if points is None else f"{points:+.1f}"


def format_comparison(rows: list[dict], notes: list[str] = ()) -> str:
    """The comparison as a Markdown table, the steps of chains with more than one (where the
    inflation comes from), then the sources of the published figures, each protocol's audit
    verdict and the `notes`."""
    from ..evaluation.summary import markdown

    if not rows:
        notes = [f"NOTE: {note}" for note in notes]
        return "\n\n".join(["No job of the paper's protocols has finished.", *notes])
    head = ["dimension", "model", "metric", "paper protocol", "score", "honest protocol"]
    head += ["score", "inflation (points)", "published", "audit"]
    cells = []
    for row in rows:
        metric = row["metric"]
        cells.append(
            [row["dimension"], row["model"], metric, row["protocol"]]
            + [_score(row["paper_score"], metric), row["honest_protocol"]]
            + [_score(row["honest_score"], metric), _signed(row["inflation"])]
            + [_score(row["published"], metric), row["verdict"].split(":")[0]]
        )
    lines = [markdown("", head, cells)]
    steps = [(row, step) for row in rows if len(row["steps"]) > 1 for step in row["steps"]]
    if steps:
        head = ["dimension", "model", "metric", "from", "score", "to", "score", "what changes"]
        cells = [
            [row["dimension"], row["model"], row["metric"], step["from"]]
            + [_score(step["from_score"], row["metric"]), step["to"]]
            + [_score(step["to_score"], row["metric"]), step["change"], _signed(step["points"])]
            for row, step in steps
        ]
        title = "Where the inflation comes from, one change a step"
        lines.append(markdown(title, [*head, "points"], cells))
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


def notices(experiment: Experiment, paper: str | None = None) -> list[str]:
    """What the reader must know before reading the numbers: the profile, the training budget
    of each pair (`budgets`, with `paper`) and whether the data are synthetic."""
    lines = []
    if experiment.profile == "quick":
        changed = ", ".join(f"{k}={v}" for k, v in experiment.feature_options.items())
        lines.append(
            "quick profile: short schedules of the papers' recipes"
            + (f" and the recipe's {changed}" if changed else "")
            + ", not the paper's training; --profile full runs the paper's presets and recipes"
        )
    if paper is not None:
        lines += budgets(paper, experiment)
    for dataset in experiment.datasets:
        if dataset not in experiment.roots:
            lines.append(
                f"synthetic data: physioemo's simulator in {dataset}'s file format, not "
                f"{dataset.upper()}; the published numbers are for the real dataset (give "
                "--root PATH to run on it)"
            )
    return lines


def budgets(paper: str, experiment: Experiment) -> list[str]:
    """Per model and paper protocol, the training budget every protocol of its chain (the
    paper's, the steps, the honest one) trains with: one line saying it is the same for all,
    or which protocol trains what."""
    from ..protocols import PROTOCOLS
    from ..training.presets import budget
    from .plan import preset_for

    chosen, lines = PAPERS[paper], []
    for model in experiment.models:
        for protocol in chosen.protocols:
            names = [protocol, *(step for step, _ in chosen.steps[protocol])]
            presets = {n: preset_for(experiment, model, PROTOCOLS[n]) for n in names}
            if None in presets.values():
                continue  # a scikit-learn model: no training schedule
            said = {n: budget(p) for n, p in presets.items()}
            if len(set(said.values())) == 1:
                stage = " (fine-tuning where a protocol gives calibration rows)" * (
                    "fine-tuning" in said[protocol]
                )
                lines.append(
                    f"training budget of {model}, the same under {', '.join(names)}: "
                    f"{said[protocol]}{stage}"
                )
            else:
                lines.append(
                    f"NOT like for like: {model} trains "
                    + "; ".join(f"{budget} under {n}" for n, budget in said.items())
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
    for line in notices(experiment, paper):
        echo(f"NOTE: {line}")
    result = run(experiment, out=out, echo=echo, **options)
    result["comparison"] = rows = compare(paper, result)
    echo(f"\n{paper}: the paper's protocol beside the honest one\n")
    echo(format_comparison(rows, notices(experiment, paper)))
    return result

"""``physioemo bench``, ``merge``, ``audit``, ``reproduce`` and ``report``: experiments into run
folders, and what run folders hold.

bench's and audit's options set `Experiment`'s fields by name (see `options.given`); flags
given beside an experiment file override it.
"""

from __future__ import annotations

from pathlib import Path

from .options import (
    add_baseline,
    add_filter_order,
    add_profile,
    add_root,
    add_synthetic,
    add_threshold,
    add_where,
    add_window,
    choices,
    examples,
    given,
    named_roots,
    non_negative_int,
    per_dataset,
    positive_int,
    run_options,
)


def add_bench(bench) -> None:
    bench.add_argument(
        "experiment", nargs="?", type=Path, help="experiment file (TOML); flags override it"
    )
    data = bench.add_argument_group("data")
    data.add_argument(
        "--dataset",
        "--datasets",
        dest="datasets",
        nargs="+",
        choices=choices()["datasets"],
        help="datasets to run (default: dreamer)",
    )
    add_root(
        data,
        "dataset files: PATH, or NAME=PATH for each dataset (default: the built-in synthetic data)",
        nargs="+",
    )
    add_synthetic(data)
    what = bench.add_argument_group("what runs")
    what.add_argument(
        "--models",
        "--model",
        nargs="+",
        choices=choices()["models"],
        help=f"models to cross-validate (default: {per_dataset('models')})",
    )
    _add_what_runs(what, features="feature recipes (default: each model's own)")
    add_threshold(what)
    add_window(what)
    add_filter_order(what)
    add_baseline(what)
    what.add_argument("--n-splits", type=positive_int, help="folds of k-fold protocols (default 5)")
    add_profile(what)
    what.add_argument(
        "--seed", type=non_negative_int, help="seed of models and splits (default: the recipes')"
    )
    what.add_argument(
        "--permutations",
        type=non_negative_int,
        help="permutations for a p-value per row (default 0: none)",
    )
    _add_slices(bench.add_argument_group("slices of the jobs"))
    where = bench.add_argument_group("where and how")
    add_where(
        where,
        "run folder (default: physioemo-runs/<time>-<datasets>)",
        "only the result table, no progress",
        backends=True,
    )
    where.add_argument(
        "--plan",
        action="store_true",
        help="print the jobs and their estimated CPU- and wall-hours per worker count; run "
        "nothing (costs measured once per machine)",
    )
    examples(
        bench,
        (
            "two models under two protocols on the built-in synthetic DREAMER",
            "physioemo bench --models logreg svm --protocols subject-dependent subject-independent",
        ),
        (
            "DEAP from its files, on four worker processes, into a named run folder",
            "physioemo bench --dataset deap --root data_preprocessed_python --jobs 4 "
            "--out runs/deap",
        ),
    )
    bench.set_defaults(run=_bench)


def _add_slices(select) -> None:
    """--subjects, --folds: run a slice of the jobs (the rest later, into the same folder)."""
    select.add_argument(
        "--subjects",
        dest="select.subjects",
        nargs="+",
        help="run only the folds holding out these subjects (default: all)",
    )
    select.add_argument(
        "--folds",
        dest="select.folds",
        nargs="+",
        type=non_negative_int,
        help="run only these fold indices (default: all)",
    )


def _add_what_runs(group, features: str) -> None:
    """--protocols, --features, --labels and --dimensions of an experiment."""
    group.add_argument(
        "--protocols",
        nargs="+",
        choices=choices()["protocols"],
        help=f"evaluation protocols (default: {per_dataset('protocols')})",
    )
    group.add_argument("--features", nargs="+", choices=choices()["recipes"], help=features)
    group.add_argument(
        "--labels",
        nargs="+",
        choices=choices()["labels"],
        help=f"label schemes (default: {per_dataset('labels')})",
    )
    group.add_argument(
        "--dimensions",
        nargs="+",
        help=f"rating dimensions (default: {per_dataset('dimensions')})",
    )


def _bench(args) -> None:
    from ..experiment import Experiment, run

    experiment = Experiment.from_toml(args.experiment) if args.experiment else Experiment()
    _override(experiment, args)
    if args.plan:
        from ..experiment.estimate import format_estimate, preview

        options = run_options(args)
        found = preview(experiment, options["backend"], options["jobs"], echo=options["echo"])
        print(format_estimate(found, options["backend"], options["jobs"]))
        return
    run(
        experiment,
        **run_options(args),
        address=args.address,
        gpus=args.gpus,
        report=args.report,
    )


def _override(experiment, args) -> None:
    """Set the fields of `experiment` the flags gave (a command without some of bench's flags,
    e.g. `audit`, leaves those fields alone), then check it."""
    for name, value in given(args, type(experiment)).items():
        if isinstance(value, dict):  # some keys of a table, e.g. synthetic.seconds
            getattr(experiment, name).update(value)
        else:
            setattr(experiment, name, value)
    experiment.roots.update(named_roots(args.root or [], experiment.datasets))
    experiment.validate("arguments")


def add_merge(merge) -> None:
    merge.add_argument("runs", nargs="+", type=Path, help="run folders of one experiment")
    merge.add_argument("--out", required=True, type=Path, help="the merged run folder")
    examples(
        merge,
        ("two slices of one experiment", "physioemo merge runs/part-1 runs/part-2 --out runs/all"),
        (
            "runs of one experiment on two machines",
            "physioemo merge runs/laptop runs/cluster --out runs/merged",
        ),
    )
    merge.set_defaults(run=_merge)


def _merge(args) -> None:
    from ..evaluation.summary import format_table
    from ..experiment import merge

    result = merge(args.runs, args.out)
    print(format_table(result["summary"]))
    print(f"merged {len(args.runs)} runs into {result['out']} ({result['copied']} jobs)")


def add_audit(audit) -> None:
    audit.add_argument("folder", metavar="RUN", nargs="?", type=Path, help="run folder")
    audit.add_argument(
        "--dataset",
        dest="datasets",
        nargs=1,
        choices=choices()["datasets"],
        help="the dataset whose protocols are audited (instead of RUN)",
    )
    add_root(audit, "the dataset's files (default: the built-in synthetic data)", nargs=1)
    _add_what_runs(
        audit,
        features="recipes, for protocols without one of their own "
        "(default: de; peripheral on wesad)",
    )
    audit.add_argument(
        "--n-splits", type=positive_int, help="folds of k-fold protocols (default 5)"
    )
    audit.add_argument(
        "--seed", type=non_negative_int, help="seed of the splits (default: the protocols')"
    )
    add_window(audit)
    add_synthetic(audit)
    examples(
        audit,
        ("the leakage audit of a finished run", "physioemo audit runs/deap"),
        (
            "two protocols on the built-in synthetic DREAMER, nothing trained",
            "physioemo audit --dataset dreamer --protocols subject-dependent leaky-window-kfold",
        ),
    )
    audit.set_defaults(run=_audit)


def _audit(args) -> None:
    from ..evaluation.audit import format_audit

    if args.folder is not None:
        if args.datasets or args.protocols:
            raise ValueError("audit: give a run folder or --dataset/--protocols, not both")
        from ..experiment.export import audit

        print(format_audit(*audit(args.folder)))
        return
    if not args.datasets or not args.protocols:
        raise ValueError("audit: give a run folder, or --dataset NAME and --protocols")
    from ..experiment import Experiment
    from ..experiment.plan import audit_only

    experiment = Experiment()
    _override(experiment, args)
    audits = audit_only(experiment, echo=print)
    print(format_audit(audits, []))


def add_reproduce(reproduce) -> None:
    reproduce.add_argument("paper", choices=choices()["papers"], help="the paper to reproduce")
    reproduce.add_argument(
        "--dataset", choices=choices()["datasets"], help="dataset (default: the paper's first)"
    )
    add_root(reproduce, "the dataset's files (default: the built-in synthetic data)")
    add_profile(reproduce, full="the paper's recipes")
    reproduce.add_argument(
        "--models", nargs="+", choices=choices()["models"], help="models (default: the paper's)"
    )
    reproduce.add_argument(
        "--dimensions", nargs="+", help="rating dimensions (default: those the paper published)"
    )
    add_synthetic(reproduce, seed=False, sized="the profile's")
    add_where(
        reproduce,
        "run folder (default: physioemo-runs/reproduce-<paper>-...)",
        "only the tables, no progress",
    )
    examples(
        reproduce,
        ("RBTransformer on the built-in synthetic DREAMER", "physioemo reproduce rbtransformer"),
        (
            "HiSTN with the paper's full recipes on DREAMER's file, on two workers",
            "physioemo reproduce histn --root DREAMER.mat --profile full --jobs 2",
        ),
    )
    reproduce.set_defaults(run=_reproduce)


def _reproduce(args) -> None:
    from ..experiment.reproduce import experiment_for, reproduce

    experiment = experiment_for(**given(args, experiment_for))
    reproduce(args.paper, experiment, **run_options(args))


def add_report(report) -> None:
    report.add_argument("folder", metavar="RUN", type=Path, help="run folder")
    report.add_argument(
        "--format",
        choices=("html", "pdf"),
        default="html",
        help="report.html (default: one page, figures embedded) or report.pdf (numbered "
        "tables and figures with captions, for a supplement); figures/ holds every figure as "
        "PNG, SVG and PDF either way",
    )
    examples(
        report,
        ("report.html of a run folder", "physioemo report runs/deap"),
        ("one PDF for a supplement", "physioemo report runs/deap --format pdf"),
    )
    report.set_defaults(run=_report)


def _report(args) -> None:
    from ..experiment.export import report

    print(f"wrote {report(args.folder, args.format)}")

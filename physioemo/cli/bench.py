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
    add_root,
    add_synthetic,
    add_where,
    add_window,
    choices,
    finite_float,
    given,
    named_roots,
    non_negative_int,
    positive_int,
    run_options,
)


def add_bench(bench) -> None:
    bench.add_argument(
        "experiment", nargs="?", type=Path, help="experiment file (TOML); flags override it"
    )
    data = bench.add_argument_group("data")
    data.add_argument(
        "--dataset", "--datasets", dest="datasets", nargs="+", choices=choices()["datasets"]
    )
    add_root(data, "dataset files (PATH, or NAME=PATH each); default synthetic", nargs="+")
    add_synthetic(data, subjects="default 10", seconds="clip length, default 20")
    what = bench.add_argument_group("what runs")
    what.add_argument("--models", "--model", nargs="+", choices=choices()["models"])
    _add_what_runs(what, features="default: each model's own")
    what.add_argument("--threshold", type=finite_float, help="binary threshold on the rating")
    add_window(what)
    add_filter_order(what)
    add_baseline(what)
    what.add_argument("--n-splits", type=positive_int, help="folds of k-fold protocols (5)")
    what.add_argument(
        "--profile", choices=choices()["profiles"], help="quick presets (default) or full recipes"
    )
    what.add_argument("--seed", type=non_negative_int, help="models and splits (default: recipes')")
    what.add_argument(
        "--permutations", type=non_negative_int, help="permutation p-value per row (N, 0: none)"
    )
    select = bench.add_argument_group("slices of the jobs")
    select.add_argument(
        "--subjects", dest="select.subjects", nargs="+", help="held-out subjects to run"
    )
    select.add_argument(
        "--folds", dest="select.folds", nargs="+", type=non_negative_int, help="fold indices to run"
    )
    where = bench.add_argument_group("where and how")
    add_where(
        where,
        "run folder (default physioemo-runs/<time>-<data>)",
        "only the result table",
        backends=True,
    )
    where.add_argument(
        "--plan",
        action="store_true",
        help="print the jobs and their estimated CPU- and wall-hours per worker count; run "
        "nothing (costs measured once per machine)",
    )
    bench.set_defaults(run=_bench)


def _add_what_runs(group, features: str) -> None:
    """--protocols, --features, --labels and --dimensions of an experiment."""
    group.add_argument("--protocols", nargs="+", choices=choices()["protocols"])
    group.add_argument("--features", nargs="+", choices=choices()["recipes"], help=features)
    group.add_argument("--labels", nargs="+", choices=choices()["labels"])
    group.add_argument("--dimensions", nargs="+", help="rating dimensions (default per dataset)")


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
    merge.add_argument("runs", nargs="+", type=Path, help="run folders")
    merge.add_argument("--out", required=True, type=Path, help="the merged run folder")
    merge.set_defaults(run=_merge)


def _merge(args) -> None:
    from ..evaluation.summary import format_table
    from ..experiment import merge

    result = merge(args.runs, args.out)
    print(format_table(result["summary"]))
    print(f"merged {len(args.runs)} runs into {result['out']} ({result['copied']} jobs)")


def add_audit(audit) -> None:
    audit.add_argument("folder", metavar="RUN", nargs="?", type=Path, help="run folder")
    audit.add_argument("--dataset", dest="datasets", nargs=1, choices=choices()["datasets"])
    add_root(audit, "the dataset's files (default: synthetic)", nargs=1)
    _add_what_runs(
        audit,
        features="for protocols without a recipe of their own (default: de; peripheral on wesad)",
    )
    audit.add_argument("--n-splits", type=positive_int, help="folds of k-fold protocols (5)")
    audit.add_argument("--seed", type=non_negative_int, help="splits (default: protocols')")
    add_window(audit)
    add_synthetic(audit)
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
    reproduce.add_argument("paper", choices=choices()["papers"])
    reproduce.add_argument(
        "--dataset", choices=choices()["datasets"], help="default: the paper's first"
    )
    add_root(reproduce, "the dataset's files (default: synthetic)")
    reproduce.add_argument(
        "--profile", choices=choices()["profiles"], help="quick presets or the paper's recipes"
    )
    reproduce.add_argument(
        "--models", nargs="+", choices=choices()["models"], help="default: the paper's model"
    )
    reproduce.add_argument("--dimensions", nargs="+", help="default: those the paper published")
    add_synthetic(reproduce, seed=False)
    add_where(
        reproduce, "run folder (default physioemo-runs/reproduce-<paper>-...)", "only the tables"
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
    report.set_defaults(run=_report)


def _report(args) -> None:
    from ..experiment.export import report

    print(f"wrote {report(args.folder, args.format)}")

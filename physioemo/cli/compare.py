"""``physioemo compare``: the result rows of a run folder compared, paired over subjects and
folds (`evaluation.comparisons`)."""

from __future__ import annotations

from pathlib import Path


def add_compare(compare) -> None:
    from ..evaluation.comparisons import COMPARE_METRIC
    from ..evaluation.summary import PER_SUBJECT

    compare.add_argument("folder", metavar="RUN", type=Path, help="run folder")
    compare.add_argument(
        "--metric",
        choices=PER_SUBJECT,
        default=COMPARE_METRIC,
        help=f"the score compared (default {COMPARE_METRIC})",
    )
    compare.set_defaults(run=_compare)


def _compare(args) -> None:
    from ..evaluation.comparisons import comparison_tables, matrices, notes
    from ..evaluation.summary import markdown
    from ..experiment.export import compare

    comparisons = compare(args.folder, args.metric)
    if not comparisons["pairs"]:
        print(f"{args.folder}: no two rows of one target share two subjects: nothing to compare")
        return
    print(notes(comparisons))
    for table in [*matrices(comparisons), *comparison_tables(comparisons)]:
        print()
        print(markdown(*table))

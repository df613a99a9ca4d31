"""The figures of README.md and docs/*.md, written from the run summaries stored in docs/results.

A figure that comes from a run sits in a marked block or span of a page::

    <!-- figures: demo.json results -->
    (written by this script)
    <!-- /figures -->

    the demo took <!-- figure: demo.json wall -->1 min 34 s<!-- /figure --> on ...

A block names a summary file of docs/results and a renderer of `RENDERERS`; a span names a
summary file, the dotted path of a value in it and optionally a format (``.1e``, ``.1f``).
``python docs/figures.py`` rewrites every block and span from its summary; ``python
docs/figures.py --check`` lists the ones that differ and exits 1 (tests/test_docs_figures.py
runs the check, so a figure cannot go stale). Summaries
are written by the commands that measure (`physioemo bench` run folders, the benchmarks) and
copied here with ``python docs/figures.py store RUN/summary.json NAME``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"(?P<open><!-- figures: (?P<file>\S+) (?P<renderer>[\w-]+)(?P<args>[^>]*?) -->\n)"
    r"(?P<body>.*?)(?P<close><!-- /figures -->)",
    re.S,
)
SPAN = re.compile(
    r"(?P<open><!-- figure: (?P<file>\S+) (?P<path>[\w.-]+)(?: (?P<format>[^ ]+))? -->)"
    r"(?P<body>.*?)(?P<close><!-- /figure -->)"
)


def results_table(summary: dict, *keep: str) -> str:
    """The result table `physioemo bench` prints, of the summary's rows (keep: "key=value"
    filters, e.g. dimension=arousal)."""
    from physioemo.evaluation.summary import format_table

    wanted = dict(item.split("=", 1) for item in keep)
    rows = summary["summary"]
    return format_table([r for r in rows if all(str(r.get(k)) == v for k, v in wanted.items())])


def comparisons(summary: dict, *keep: str) -> str:
    """The paired comparisons `physioemo compare` prints, of the pairs whose rows match the
    "key=value" filters (e.g. dimension=arousal protocol=subject-dependent)."""
    from physioemo.evaluation.comparisons import comparison_tables
    from physioemo.evaluation.summary import markdown

    wanted = dict(item.split("=", 1) for item in keep)
    pairs = [
        pair
        for pair in summary["comparisons"]["pairs"]
        if all(str(pair[side].get(k)) == v for side in "ab" for k, v in wanted.items())
    ]
    (pairs_table, *_) = comparison_tables({"pairs": pairs, "ranks": []})
    return markdown(*pairs_table)


def planted(summary: dict, model: str = "eegnet") -> str:
    """benchmarks/training.py planted's summary: per dimension the accuracy of DE + logistic
    regression, `model`, the oracle and the majority guess (mean ± standard error over
    subjects, %), and `model`'s paired margin over DE + logistic regression."""
    effects = {"valence": "alpha phase coupling", "arousal": "sawtooth time asymmetry"}
    rows = []
    for dimension, effect in effects.items():
        if f"{dimension}/sd" not in summary:
            continue
        found = {name: got["summary"] for name, got in summary[f"{dimension}/sd"].items()}
        margin = summary[f"{dimension}/sd/margins"][model]
        rows.append(
            {
                "dimension (planted effect)": f"{dimension} ({effect})",
                "DE + logreg": _mean_se(found["logreg"]),
                f"{model} (full recipe)": _mean_se(found[model]),
                "oracle features + logreg": _mean_se(found["oracle"]),
                "majority": f"{100 * found['logreg']['majority']:.1f}",
                f"{model} margin over DE + logreg": _mean_se(margin, "margin"),
            }
        )
    return table({"rows": rows}, "rows")


def _mean_se(found: dict, key: str = "accuracy") -> str:
    """found[key] ± found[key_se] in %, a margin with its sign."""
    sign = "+" if key == "margin" else ""
    return f"{100 * found[key]:{sign}.1f} ± {100 * found[f'{key}_se']:.1f}"


def histn_speed(summary: dict) -> str:
    """benchmarks/training.py histn's summary: HiSTN's training samples/s before issue 25 and
    now, per batch size of its presets."""
    rows = [
        {
            "batch": f"{batch} (`{row['preset']}`)",
            "before issue 25 (samples/s)": f"{row['reference']:,.0f}",
            "now (samples/s)": f"{row['package']:,.0f}",
            "speed-up": f"{row['speed_up']:.2f}x",
        }
        for batch, row in summary["histn"].items()
        if batch != "difference"
    ]
    return table({"rows": rows}, "rows")


def table(summary: dict, key: str = "table") -> str:
    """A list of flat dicts at `key` as a Markdown table, columns in the first row's order."""
    rows = lookup(summary, key)
    head = list(rows[0])
    lines = [head, ["---"] * len(head), *([row.get(name, "") for name in head] for row in rows)]
    return "\n".join("| " + " | ".join(str(cell) for cell in cells) + " |" for cells in lines)


def measured(summary: dict) -> str:
    """When, where and from which revision the summary was measured."""
    about = summary["about"]
    return (
        f"Measured on {about['date']} on {about['machine']} (revision {about['revision'][:7]}): "
        f"`{about['command']}`."
    )


def difficulty(summary: dict) -> str:
    """benchmarks/difficulty.py's summary as a table: each balanced accuracy (seed 0, mean ± std
    over subjects) beside the field's range, whether it is inside, and every seed's score."""
    seeds = f"seeds {', '.join(map(str, summary['seeds']))}: each (mean)"
    rows = [
        {
            "dataset": row["dataset"].upper(),
            "protocol": row["protocol"],
            "dimension (labels)": f"{row['dimension']} ({row['labels']})",
            "balanced accuracy %": f"{row['balanced_accuracy']:.1f} ± "
            f"{row['balanced_accuracy_std']:.1f}",
            "chance %": f"{row['chance']:.1f}",
            "field's range %": "{}-{}".format(*row["band"]),
            "inside": "yes" if row["inside"] else "**no**",
            seeds: " / ".join(f"{v:.1f}" for v in row["seeds"].values())
            + f" ({row['seeds_mean']:.1f})",
        }
        for row in summary["results"]
    ]
    return table({"rows": rows}, "rows")


#: renderer name -> function(summary, *arguments) -> Markdown
RENDERERS = {
    "results": results_table,
    "comparisons": comparisons,
    "table": table,
    "measured": measured,
    "difficulty": difficulty,
    "planted": planted,
    "histn-speed": histn_speed,
}


def lookup(summary: dict, path: str):
    """The value at a dotted path (list indices as numbers)."""
    value = summary
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def render(text: str) -> str:
    """`text` with every block and span written anew from its summary (ValueError when a
    block or span is not closed: it would swallow the text up to the next one's end)."""
    for start, end in (
        ("<!-- figures: ", "<!-- /figures -->"),
        ("<!-- figure: ", "<!-- /figure -->"),
    ):
        if text.count(start) != text.count(end):
            raise ValueError(f"{text.count(start)} '{start.strip()}' but {text.count(end)} '{end}'")

    def block(match) -> str:
        renderer = RENDERERS[match["renderer"]]
        body = renderer(load(match["file"]), *match["args"].split())
        return f"{match['open']}{body.rstrip()}\n{match['close']}"

    def span(match) -> str:
        value = lookup(load(match["file"]), match["path"])
        return f"{match['open']}{format(value, match['format'] or '')}{match['close']}"

    return SPAN.sub(span, BLOCK.sub(block, text))


def stale() -> list[str]:
    """Pages (relative names) whose figures differ from their summaries."""
    return [
        str(page.relative_to(ROOT))
        for page in PAGES
        if render(page.read_text(encoding="utf-8")) != page.read_text(encoding="utf-8")
    ]


def store(summary_path: str, name: str, machine: str | None = None) -> Path:
    """Copy a run folder's summary.json into docs/results/NAME with an "about" entry (machine:
    the one the run folder's environment names, unless given)."""
    summary = json.loads(Path(summary_path).read_text(encoding="utf-8"))
    run = summary["runs"][-1]
    summary["about"] = {
        "date": run["started"][:10],
        "machine": machine or summary["environment"]["machine"],
        "revision": summary["environment"]["git_revision"],
        "command": run["command"],
    }
    out = RESULTS / name
    out.write_text(unplaced(json.dumps(summary, indent=1)) + "\n", encoding="utf-8")
    return out


def unplaced(text: str) -> str:
    """`text` without this machine's paths: physioemo's cache (where synthetic data are
    written) as $PHYSIOEMO_CACHE, the repository as ".", the home folder as "~"."""
    from physioemo.paths import cache_dir

    for path, name in ((cache_dir(), "$PHYSIOEMO_CACHE"), (ROOT, "."), (Path.home(), "~")):
        text = text.replace(str(path), name)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list stale pages, exit 1 if any")
    sub = parser.add_subparsers(dest="command")
    keep = sub.add_parser("store", help="copy a run summary into docs/results")
    keep.add_argument("summary")
    keep.add_argument("name")
    keep.add_argument("--machine", help="the machine in words (default: the run's environment)")
    args = parser.parse_args(argv)
    if args.command == "store":
        print(store(args.summary, args.name, args.machine))
        return 0
    if args.check:
        pages = stale()
        print("\n".join(pages) or "every figure matches its summary")
        return 1 if pages else 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        page.write_text(render(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

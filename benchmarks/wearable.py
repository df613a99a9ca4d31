"""The wearable path of docs/live.md ("Wearable physiology: from synthetic data to a fused
benchmark") run as written with an empty physioemo cache: how long each command takes, and what
the live replays report.

In a temporary folder (the physioemo cache inside it) the script runs the section's six
commands, each timed (wall seconds, Python's start-up and imports included). The replay of the
new synthetic subject prints its summary (`physioemo live ... --json`): windows, samples
dropped, and the share of the windows of baseline, stress and amusement whose predicted class is
the true condition (`agreement`). Then, each timed the same way: a logistic regression trained
and replayed like the PINN; the README's variant (the PINN trained on the built-in synthetic
WESAD), replayed likewise and run for 30 s on BrainFlow's synthetic board (`--jsonl`: one line
per window, each checked for the EDA); and the fused benchmark on synthetic DREAMER (DE, the
ECG's heart rate and HRV, and both, on the same windows and folds).

It writes docs/results/wearable-demo.json (the section's figures: the live entries are the
`--json` summaries) and stores the two bench runs' summaries as docs/results/fused-deap.json
and fused-dreamer.json (`docs/figures.py store`); `python docs/figures.py` then rewrites the
pages. Paths of the temporary folder are left out of them (the synthetic data's cache reads
$PHYSIOEMO_CACHE). It refuses to write when a figure the pages quote is missing.

    python benchmarks/wearable.py            # every step (about 8 minutes on 2 busy cores)
    python benchmarks/wearable.py --quick    # synth, train and playback only; writes nothing
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import summaries
from summaries import RESULTS
from summaries import about as measured

from physioemo.experiment.export import versions

ROOT = Path(__file__).resolve().parents[1]
#: `physioemo` run by this Python; the run folders record the command as the docs write it
CLI = [
    sys.executable,
    "-c",
    "import sys; sys.argv[0] = 'physioemo'; import physioemo.cli; physioemo.cli.run()",
]
#: the section's commands (seconds key -> arguments), the live one with its summary as JSON
PATH = {
    "synth": "synth wesad data/ --subjects 4",
    "train": "train --dataset wesad --root data/ --model pinn --out pinn.pt",
    "playback": "playback --dataset wesad --data-seed 1 --out s2.csv --speed 10",
    "live": "live --board playback --file s2.csv --model pinn.pt --json",
    "bench": "bench --dataset deap --features de peripheral de+peripheral --models logreg "
    "--window 10 --stride 5 --baseline none --out runs/fused",
    "report": "report runs/fused",
}
QUICK = ("synth", "train", "playback")
#: the other runs, in order: key -> (working folder, arguments)
VARIANTS = {
    "train_logreg": (".", "train --dataset wesad --root data/ --model logreg --out logreg.pt"),
    "live_logreg": (".", "live --board playback --file s2.csv --model logreg.pt --json"),
    "train_builtin": ("readme", "train --dataset wesad --model pinn --out pinn.pt"),
    "readme_pinn": ("readme", "live --board playback --file s2.csv --model pinn.pt --json"),
    "board": ("readme", "live --model pinn.pt --duration 30 --jsonl board.jsonl --json"),
    # DREAMER's synthetic baselines last a third of a 20-s clip: long enough to subtract
    "bench_dreamer": (
        ".",
        "bench --dataset dreamer --features de peripheral de+peripheral --models logreg "
        "--window 10 --stride 5 --out runs/fused-dreamer",
    ),
}


def physioemo(arguments: str, cwd: Path, env: dict) -> tuple[float, str]:
    """Run `physioemo ARGUMENTS` in `cwd`: wall seconds and its standard output (also echoed
    to stderr unless it is a JSON summary); an error if it fails."""
    print(f"$ physioemo {arguments}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [*CLI, *shlex.split(arguments)], cwd=cwd, env=env, stdout=subprocess.PIPE, text=True
    )
    seconds = round(time.perf_counter() - started, 1)
    if "--json" not in arguments:
        sys.stderr.write(done.stdout)
    done.check_returncode()
    return seconds, done.stdout


def run_all(folder: Path, env: dict, keys) -> tuple[dict, dict]:
    """Run the section's commands `keys`, then (all of them given) the variants: seconds by
    key, and the live summaries by key."""
    seconds, summaries = {}, {}
    for key in keys:
        seconds[key], out = physioemo(PATH[key], folder, env)
        if key == "live":
            summaries["live_pinn"] = json.loads(out)
    if set(keys) != set(PATH):
        return seconds, summaries
    (folder / "readme").mkdir()
    for path in folder.glob("s2*"):  # the README's replay of the same subject: every preset
        shutil.copy(path, folder / "readme")
    for key, (where, arguments) in VARIANTS.items():
        seconds[key], out = physioemo(arguments, folder / where, env)
        if "--json" in arguments:
            summaries[key] = json.loads(out)
    summaries["board"] |= jsonl_check(folder / "readme" / "board.jsonl")
    return seconds, summaries


def jsonl_check(path: Path) -> dict:
    """Lines of a `--jsonl` file; SystemExit unless each holds the EDA (predicted and measured),
    as docs/live.md says."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if not all("eda" in line for line in lines):
        raise SystemExit(f"{path}: a --jsonl line without the EDA")
    return {"jsonl_lines": len(lines)}


def about(keys) -> dict:
    """Date, machine, versions, revision, load (1, 5, 15-min averages, at the end) and the
    commands run (by key of `keys`)."""
    commands = PATH | {key: arguments for key, (_, arguments) in VARIANTS.items()}
    return {
        **measured(),
        "versions": versions(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "commands": {key: f"physioemo {commands[key]}" for key in keys},
    }


def unfilled(found: dict) -> list[str]:
    """The wearable-demo.json figures of README.md and docs/*.md that `found` lacks."""
    spec = importlib.util.spec_from_file_location("figures", ROOT / "docs" / "figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    missing = []
    for page in figures.PAGES:
        for span in figures.SPAN.finditer(page.read_text(encoding="utf-8")):
            if span["file"] != "wearable-demo.json":
                continue
            try:
                figures.lookup(found, span["path"])
            except (KeyError, IndexError, TypeError):
                missing.append(span["path"])
    return sorted(set(missing))


def write(found: dict, folder: Path, env: dict) -> None:
    """wearable-demo.json and the two bench summaries (stored under `env`, whose cache
    `docs/figures.py store` writes as $PHYSIOEMO_CACHE) into docs/results."""
    missing = unfilled(found)
    if missing:
        raise SystemExit(f"wearable.py: not written, figures missing: {', '.join(missing)}")
    summaries.write(RESULTS / "wearable-demo.json", found)
    store = [sys.executable, str(ROOT / "docs" / "figures.py"), "store"]
    for run, name in (("fused", "fused-deap.json"), ("fused-dreamer", "fused-dreamer.json")):
        summary = folder / "runs" / run / "summary.json"
        subprocess.run([*store, str(summary), name], env=env, check=True, stdout=sys.stderr)
    unplace(RESULTS / "wearable-demo.json", folder)


def unplace(path: Path, folder: Path) -> None:
    """Rewrite `path` without the temporary folder's name: the cache (where the synthetic data
    were written) as $PHYSIOEMO_CACHE, other paths relative to the folder the commands ran in."""
    text = path.read_text(encoding="utf-8")
    text = text.replace(str(folder / "cache"), "$PHYSIOEMO_CACHE").replace(f"{folder}/", "")
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK)}; write nothing")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="physioemo-wearable-") as name:
        folder = Path(name)
        python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PHYSIOEMO_CACHE": str(folder / "cache"), "PYTHONPATH": python_path}
        seconds, summaries = run_all(folder, env, QUICK if args.quick else list(PATH))
        found = {"about": about(seconds), "seconds": seconds, **summaries}
        found["about"]["wall_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(found, indent=1))
        if not args.quick:
            write(found, folder, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())

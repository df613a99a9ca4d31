"""What the commands share: argument types for numbers, the parser, the registries' names as
choices, and the option groups several commands take.

An option's dest is the name of what it sets: a field of `Experiment`, `TrainSpec` or
`LiveOptions`, a parameter of the function the command calls, or ``field.key`` for a key of a
dict field (``--data-seed`` sets ``synthetic.seed``). `given` copies the parsed values by those
names, so no command keeps a table from flags to fields.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from dataclasses import fields, is_dataclass
from inspect import signature
from pathlib import Path

from ..errors import clean
from .errors import USER_ERROR


# ----------------------------------------------------------------------------- number types
def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (seconds, rates)."""
    value = _number(text, float)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {clean(text, 40)!r}")
    return value


def finite_float(text: str) -> float:
    """argparse type: a finite number (thresholds)."""
    value = _number(text, float)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {clean(text, 40)!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (counts)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {clean(text, 40)!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (seeds)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {clean(text, 40)!r}")
    return value


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (shares)."""
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {clean(text, 40)!r}")
    return value


def _number(text: str, kind: type):
    try:
        return kind(text)
    except ValueError:
        name = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {name}, got {clean(text, 40)!r}") from None


# ----------------------------------------------------------------------------- the parser
class _Help(argparse.HelpFormatter):
    """Help that names an option's value after its flag (``--data-seed DATA_SEED``, also for an
    option with choices, whose names the help lists instead), says each option's default unless
    its help does or it has none (None, a flag), and keeps the lines of the description and
    epilog: each wrapped to the terminal, but an indented one (an example) as written."""

    def _fill_text(self, text, width, indent):
        return "\n".join(
            line if line[:1].isspace() else textwrap.fill(line, width, initial_indent=indent)
            for line in text.splitlines()
        )

    def _get_default_metavar_for_optional(self, action):
        return action.option_strings[0].lstrip("-").replace("-", "_").upper()

    def _metavar_formatter(self, action, default_metavar):
        if action.option_strings and action.choices and action.metavar is None:
            return lambda size: (default_metavar,) * size
        return super()._metavar_formatter(action, default_metavar)

    def _get_help_string(self, action):
        text = action.help or ""
        notes = []
        if action.option_strings and action.choices:
            notes.append("one of " + ", ".join(map(str, action.choices)))
        default = action.default
        if not (default is None or isinstance(default, bool) or "default" in text.lower()):
            if default is not argparse.SUPPRESS:
                notes.append("default %(default)s")
        if not notes:
            return text
        if text.endswith(")") and "default" in text[text.rfind("(") :]:  # "(s; default: ...)"
            return f"{text[:-1]}; {'; '.join(notes)})"
        return f"{text} ({'; '.join(notes)})"

    def _split_lines(self, text, width):
        """Wrapped at spaces only: a name such as ``seed-session`` stays whole."""
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def examples(parser, *lines: tuple[str, str]) -> None:
    """Set `parser`'s epilog to its examples: (what it does, the command line) each."""
    shown = "\n".join(f"  # {about}\n  {line}" for about, line in lines)
    parser.epilog = f"examples:\n{shown}"


class Parser(argparse.ArgumentParser):
    """argparse whose errors are physioemo's one line (value sanitised), exit status 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message):
        print(f"physioemo: error: {clean(message, 300)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(USER_ERROR)


def given(args: argparse.Namespace, target) -> dict:
    """The values the command line set for `target`'s fields (a dataclass) or parameters (a
    function): each option whose dest is such a name, and each ``name.key`` gathered into a
    dict under name. Options left unset (None) are left out, so the target's defaults stay."""
    names = (
        {f.name for f in fields(target)} if is_dataclass(target) else signature(target).parameters
    )
    values: dict = {}
    for dest, value in vars(args).items():
        name, _, key = dest.partition(".")
        if value is None or name not in names:
            continue
        if key:
            values.setdefault(name, {})[key] = value
        else:
            values[name] = value
    return values


def choices() -> dict[str, list[str]]:
    """The names each registry offers, in its order: the choices of every option (read anew
    each time, so an entry added at run time is offered)."""
    from ..datasets import available as datasets
    from ..datasets import scheme_names
    from ..experiment.backends import DEVICES, PRECISIONS
    from ..experiment.backends import NAMES as BACKENDS
    from ..experiment.reproduce import PAPERS
    from ..experiment.spec import PROFILES
    from ..features.extraction import BASELINE_MODES
    from ..features.recipes import available as recipes
    from ..models import available as models
    from ..protocols import PROTOCOLS

    return {
        "datasets": datasets(),
        "models": models(),
        "protocols": list(PROTOCOLS),
        "recipes": recipes(),
        "labels": scheme_names(),
        "baselines": ["auto", *BASELINE_MODES],
        "profiles": list(PROFILES),
        "backends": list(BACKENDS),
        "devices": list(DEVICES),
        "precisions": list(PRECISIONS),
        "papers": list(PAPERS),
    }


def per_dataset(key: str) -> str:
    """What an experiment runs of the list `key` (models, protocols, labels, dimensions) when
    none is given, said for help: "the dataset's; DREAMER: logreg histn ..."."""
    from ..experiment.spec import Experiment

    return "the dataset's; DREAMER: " + " ".join(Experiment().values_for("dreamer", key))


# ----------------------------------------------------------------------------- option groups
def add_root(group, help: str, nargs=None, required: bool = False) -> None:
    """--root: the dataset's file or folder (a Path); with `nargs`, PATH or NAME=PATH for each
    dataset (`named_roots`)."""
    if nargs:
        group.add_argument("--root", nargs=nargs, help=help)
    else:
        group.add_argument("--root", type=Path, required=required, help=help)


def named_roots(texts: list[str], datasets: list[str]) -> dict[str, str]:
    """dataset -> resolved path of each --root NAME=PATH (a bare PATH: the one dataset's)."""
    roots = {}
    for text in texts:
        name, _, path = text.rpartition("=")
        if not name:
            if len(datasets) != 1:
                raise ValueError("--root: with several datasets give NAME=PATH for each")
            name = datasets[0]
        roots[name] = str(Path(path).resolve())
    return roots


def add_synthetic(group, seed=True, sized: str | None = None):
    """--synthetic-subjects, --synthetic-seconds and --data-seed (or --development): size and
    seed of the built-in synthetic data (dests ``synthetic.*``, as `Experiment.synthetic`).
    sized: what sets the size when they are not given (default: the dataset card)."""
    from ..datasets.cards import CARDS, DEVELOPMENT_SEED

    sizes = CARDS["dreamer"].synthetic
    subjects = sized or f"the dataset's, DREAMER {sizes['subjects']}"
    seconds = sized or f"the dataset's, DREAMER {sizes['seconds']:g}"
    group.add_argument(
        "--synthetic-subjects",
        dest="synthetic.subjects",
        type=positive_int,
        help=f"subjects of the built-in synthetic data (default: {subjects})",
    )
    group.add_argument(
        "--synthetic-seconds",
        dest="synthetic.seconds",
        type=positive_float,
        help=f"clip length (s) of the built-in synthetic data (default: {seconds})",
    )
    if seed:
        group.add_argument(
            "--data-seed",
            dest="synthetic.seed",
            type=non_negative_int,
            help="synthetic data's seed (default 0)",
        )
        group.add_argument(
            "--development",
            dest="synthetic.seed",
            action="store_const",
            const=DEVELOPMENT_SEED,
            help=f"the development subjects (data seed {DEVELOPMENT_SEED}): choose recipes on "
            "them, never report them",
        )


def add_window(group, into: str | None = "feature_options"):
    """--window and --stride (s) of a feature recipe, into the dict field `into` (None: fields
    of their own names)."""
    prefix = f"{into}." if into else ""
    group.add_argument(
        "--window",
        dest=f"{prefix}window",
        type=positive_float,
        help="window length (s; default: the recipe's)",
    )
    group.add_argument(
        "--stride",
        dest=f"{prefix}stride",
        type=positive_float,
        help="window step (s; default: the recipe's, the window for most)",
    )


def add_filter_order(group) -> None:
    """--filter-order: the Butterworth order of DE's band-passes (a recipe parameter)."""
    group.add_argument(
        "--filter-order",
        dest="feature_options.filter_order",
        type=positive_int,
        help="Butterworth order of DE's band-passes (default 4; SEED and LibEER use 3)",
    )


def add_threshold(group) -> None:
    """--threshold: where a rating turns high in the binary label scheme."""
    from ..datasets.cards import CARDS

    said = ", ".join(f"{n.upper()} {CARDS[n].labels.scale[2]:g}" for n in ("dreamer", "deap"))
    group.add_argument(
        "--threshold",
        type=finite_float,
        help=f"binary labels: a rating at or above it is high (default: the dataset's, {said})",
    )


BASELINE_HELP = (
    "how the trials' resting baseline is used: auto (default) subtracts it (DE) or z-scores by "
    "it (raw) when the trials have one"
)


def add_baseline(group, dest: str = "feature_options.baseline", help: str = BASELINE_HELP) -> None:
    """--baseline: how a recipe uses the trials' resting baseline (auto or a mode)."""
    group.add_argument("--baseline", dest=dest, choices=choices()["baselines"], help=help)


def add_profile(group, full: str = "the papers' full recipes") -> None:
    """--profile: the quick training presets (default) or `full`."""
    group.add_argument(
        "--profile",
        choices=choices()["profiles"],
        help=f"quick training presets (default) or {full}",
    )


#: where and how torch fits run: flag -> (its choices in `choices()`, default, help)
TORCH_PLACEMENT = {
    "--device": (
        "devices",
        "cpu",
        "torch fits: cpu (default), cuda (refused without a GPU; with --jobs N, worker i on "
        "GPU i mod the GPUs) or auto (CUDA when available)",
    ),
    "--precision": (
        "precisions",
        "fp32",
        "torch fits: fp32 (default), or bf16/fp16 autocast (fp16 on CUDA only; the PINN stays "
        "fp32); each row says which ran",
    ),
}


def add_where(group, out: str, quiet: str, backends: bool = False) -> None:
    """Where and how a run goes: --jobs, --device, --precision, --out, --overwrite, --quiet;
    with `backends` also the backend, Ray's address and GPUs, torch threads and --no-report
    (`run_options` reads them)."""
    group.add_argument("--jobs", type=positive_int, default=1, help="worker processes")
    for flag, (names, default, text) in TORCH_PLACEMENT.items():
        group.add_argument(flag, choices=choices()[names], default=default, help=text)
    if backends:
        group.add_argument(
            "--backend",
            choices=choices()["backends"],
            help="where jobs run (default: serial; processes with --jobs N)",
        )
        group.add_argument(
            "--address",
            help="Ray cluster address (HOST:PORT or auto; default: a local Ray of --jobs CPUs)",
        )
        group.add_argument("--gpus", type=float, default=0.0, help="Ray: GPUs per torch job")
        group.add_argument("--threads", type=positive_int, help="torch threads per job (default 1)")
    group.add_argument("--out", type=Path, help=out)
    group.add_argument(
        "--overwrite", action="store_true", help="replace a run folder of another experiment"
    )
    group.add_argument("-q", "--quiet", action="store_true", help=quiet)
    if backends:
        group.add_argument(
            "--no-report",
            dest="report",
            action="store_false",
            help="no report.html (`physioemo report RUN` later)",
        )


def run_options(args: argparse.Namespace) -> dict:
    """`experiment.run`'s out, backend, jobs, overwrite, progress and echo from the options of
    `add_where` (and device, precision): backend serial, or processes with --jobs > 1, unless
    --backend says; --quiet:
    no progress, only the tables."""
    backend = vars(args).get("backend") or ("processes" if args.jobs > 1 else "serial")
    return {
        "out": args.out,
        "backend": backend,
        "jobs": args.jobs,
        "device": args.device,
        "precision": args.precision,
        "overwrite": args.overwrite,
        "progress": False if args.quiet else None,
        "echo": _quiet_echo if args.quiet else print,
    }


def _quiet_echo(*lines) -> None:
    """--quiet: only the result table (and failures) reach stdout."""
    for line in lines:
        if str(line).startswith("|") or "failed" in str(line):
            print(line)

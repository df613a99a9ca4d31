"""An experiment as data: datasets x feature recipes x models x protocols x label schemes.

Written as CLI flags or as a TOML file (`physioemo bench experiment.toml`); every name is checked
against its registry before any work starts. A run folder keeps its experiment as
``experiment.toml``, so ``physioemo bench RUN/experiment.toml --out NEW`` replays it::

    datasets = ["dreamer"]                 # physioemo.datasets.CARDS
    models = ["logreg", "histn"]           # physioemo.models.MODELS; empty: the dataset's defaults
    protocols = ["subject-dependent"]      # physioemo.protocols.PROTOCOLS; empty: defaults
    features = []                          # physioemo.features.recipes; empty: each model's own
    labels = ["binary"]                    # the dataset card's labels; empty: the dataset's first
    dimensions = ["arousal"]               # empty: the dataset's default dimensions
    n_splits = 5                           # folds of the k-fold protocols
    profile = "quick"                      # "quick" presets or the papers' "full" recipes
    seed = 0                               # models and splits; absent: each recipe's own seed
    permutations = 1000                    # a permutation p-value per result row (0: none)

    [roots]                                # dataset files; a dataset without a root is synthetic
    dreamer = "/data/DREAMER.mat"

    [feature_options]                      # recipe parameters: window, stride, baseline, ...
    window = 1.0

    [protocol_options.subject-independent] # a protocol's own options (here: 5 groups of
    n_splits = 5                           # subjects instead of leave-one-subject-out)

    [synthetic]                            # the built-in synthetic data: size (default: the
    subjects = 10                          # dataset card's `synthetic`) and its own seed (0)
    seconds = 20.0
    seed = 0

    [select]                               # a slice of the jobs: held-out subjects, fold indices
    subjects = ["s01"]
    folds = [0, 1]

    [per_dataset.dreamer]                  # what one dataset runs where the lists above are
    protocols = ["subject-dependent", "subject-independent"]   # empty; written by every run
    synthetic = { subjects = 10, seconds = 20.0, seed = 0 }    # (`resolved`): replays the same

Before it runs, an experiment is `resolved`: every dataset default it relies on (models,
protocols, labels, dimensions, synthetic size and seed) is written into ``per_dataset``, so the
run folder's file replays the same jobs whatever a later version's defaults are. A seed or a
threshold left out stays out: each protocol and training preset then uses its own seed, each
dataset its own binary threshold (the file says so in a comment).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from .._json import digest
from .._version import __version__
from ..datasets import card

#: fields that choose which jobs of an experiment run; runs that differ only in these merge
SELECTORS = ("datasets", "models", "protocols", "dimensions", "select")
#: fields that describe the machine or the summary, not the jobs' results
LOCAL = ("roots", "threads", "permutations")
#: fields that are tables (TOML) of names or options
TABLES = ("roots", "feature_options", "protocol_options", "synthetic", "select", "per_dataset")
#: the lists whose empty value means "the dataset's defaults"; `resolved` writes those defaults
#: per dataset into `per_dataset` (with "synthetic", the synthetic data's size and seed)
PER_DATASET = ("models", "protocols", "labels", "dimensions")
#: what an absent value means, said in a comment of the experiment file
ABSENT = {
    "seed": "each protocol and training preset uses its own seed",
    "threshold": "each dataset's own binary threshold",
}

PROFILES = ("quick", "full")


@dataclass
class Experiment:
    """What `physioemo bench` runs (the module docstring shows it as TOML)."""

    datasets: list[str] = field(default_factory=lambda: ["dreamer"])
    models: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    threshold: float | None = None
    n_splits: int = 5
    profile: str = "quick"
    seed: int | None = None
    threads: int = 1
    permutations: int = 0
    roots: dict[str, str] = field(default_factory=dict)
    feature_options: dict = field(default_factory=dict)
    protocol_options: dict[str, dict] = field(default_factory=dict)
    synthetic: dict = field(default_factory=dict)
    select: dict = field(default_factory=dict)
    per_dataset: dict[str, dict] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading and writing
    @classmethod
    def from_toml(cls, path) -> Experiment:
        """Read an experiment file; unknown keys and wrong types are refused naming the key."""
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib

        path = Path(path)
        try:
            content = tomllib.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ValueError(f"{path}: not a TOML experiment file ({error})") from None
        return cls.from_dict(content, source=str(path))

    @classmethod
    def from_dict(cls, content: dict, source: str = "experiment") -> Experiment:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(content) - set(known))
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}")
        experiment = cls(**content)
        experiment.validate(source)
        return experiment

    def to_toml(self) -> str:
        """The experiment as TOML, a comment line above it for each value left out (`ABSENT`)."""
        import tomli_w

        content = {k: v for k, v in asdict(self).items() if v is not None}
        notes = [f"# {key} absent: {ABSENT[key]}\n" for key in ABSENT if key not in content]
        empty = [key for key in PER_DATASET if not content[key]]
        if empty and self.per_dataset:
            notes.append(f"# {' = [], '.join(empty)} = []: each dataset's own, in [per_dataset]\n")
        return "".join(notes) + tomli_w.dumps(content)

    def core(self) -> dict:
        """The experiment without its job selection, machine-local settings and `per_dataset`
        (the defaults of the datasets, which the version fixes)."""
        skipped = (*SELECTORS, *LOCAL, "per_dataset")
        return {k: v for k, v in asdict(self).items() if k not in skipped}

    def core_digest(self) -> str:
        """Digest of `core()` and the physioemo version: runs with equal digests merge."""
        return digest({"core": self.core(), "version": __version__})

    # ------------------------------------------------------------------ what runs
    def synthetic_for(self, dataset: str) -> dict:
        """subjects, seconds and seed of `dataset`'s synthetic data."""
        frozen = self.per_dataset.get(dataset, {}).get("synthetic", {})
        return {**card(dataset).synthetic, "seed": 0, **frozen, **self.synthetic}

    def _frozen(self, dataset: str, key: str) -> list[str]:
        """The dataset's own list `key` of `per_dataset` (empty when it has none)."""
        return list(self.per_dataset.get(dataset, {}).get(key, []))

    def models_for(self, dataset: str) -> list[str]:
        return list(self.models or self._frozen(dataset, "models") or card(dataset).models)

    def protocols_for(self, dataset: str) -> list[str]:
        chosen = self.protocols or self._frozen(dataset, "protocols")
        return list(chosen or card(dataset).protocols)

    def labels_for(self, dataset: str) -> list[str]:
        offered = card(dataset).labels.schemes
        if self.labels:
            return [n for n in self.labels if n in offered]
        return self._frozen(dataset, "labels") or [offered[0]]

    def dimensions_for(self, dataset: str) -> list[str]:
        known = card(dataset).labels
        if not self.dimensions:
            return self._frozen(dataset, "dimensions") or list(known.default)
        return [d for d in self.dimensions if d in known.dimensions]

    def values_for(self, dataset: str, key: str) -> list[str]:
        """What `dataset` runs of the list `key` (one of `PER_DATASET`)."""
        return getattr(self, f"{key}_for")(dataset)

    def resolved(self) -> Experiment:
        """This experiment with every dataset default it relies on written into
        `per_dataset`: the lists of `PER_DATASET` it leaves empty, and the synthetic data's
        size and seed of each dataset without files. It runs the same jobs, today and after
        a version that changes the defaults."""
        per_dataset = {name: dict(values) for name, values in self.per_dataset.items()}
        for dataset in self.datasets:
            frozen = per_dataset.setdefault(dataset, {})
            for key in PER_DATASET:
                if not getattr(self, key):
                    frozen[key] = self.values_for(dataset, key)
            if dataset not in self.roots:
                frozen["synthetic"] = self.synthetic_for(dataset)
        return replace(self, per_dataset={d: v for d, v in per_dataset.items() if v})

    # ------------------------------------------------------------------ checks
    def validate(self, source: str = "experiment") -> None:
        """Raise ValueError (one line, naming the key) unless every choice is a registry entry
        and every number is in range."""
        for key in TABLES:
            if not isinstance(getattr(self, key), dict):
                raise ValueError(f"{source}: {key} must be a table")
        self._check_names(source)
        self._check_datasets_offer(source)
        self._check_numbers(source)
        _check_synthetic(source, "synthetic", self.synthetic)
        self._check_tables(source)
        self._check_per_dataset(source)

    def _check_names(self, source: str) -> None:
        """Every chosen name is in its registry, and some dataset is chosen."""
        from ..datasets import CARDS, scheme_names
        from ..features.recipes import RECIPES
        from ..models import MODELS
        from ..protocols import PROTOCOLS

        lists = {
            "datasets": (self.datasets, CARDS),
            "models": (self.models, MODELS),
            "protocols": (self.protocols, PROTOCOLS),
            "features": (self.features, RECIPES),
            "labels": (self.labels, scheme_names()),
        }
        for key, (chosen, registry) in lists.items():
            _check_names_in(source, key, chosen, registry)
        if not self.datasets:
            raise ValueError(f"{source}: datasets is empty")

    def _check_datasets_offer(self, source: str) -> None:
        """Every dataset has some of the chosen labels and dimensions."""
        for dataset in self.datasets:
            known = card(dataset).labels
            if self.labels and not self.labels_for(dataset):
                raise ValueError(
                    f"{source}: {dataset} has none of the labels {self.labels}; "
                    f"it has {', '.join(known.schemes)}"
                )
            if self.dimensions and not self.dimensions_for(dataset):
                raise ValueError(
                    f"{source}: {dataset} has none of the dimensions {self.dimensions}; "
                    f"it has {', '.join(known.dimensions)}"
                )

    def _check_numbers(self, source: str) -> None:
        """Counts, seed, profile, threshold and window lengths are in range."""
        _check_int(source, "n_splits", self.n_splits, 2, 100)
        _check_int(source, "threads", self.threads, 1, 256)
        _check_int(source, "permutations", self.permutations, 0, 10**6)
        if self.seed is not None:
            _check_int(source, "seed", self.seed, 0, 2**32 - 1)
        if self.profile not in PROFILES:
            raise ValueError(f"{source}: profile must be one of {', '.join(PROFILES)}")
        if self.threshold is not None and not _finite(self.threshold):
            raise ValueError(f"{source}: threshold must be a finite number")
        for key in ("window", "stride"):
            value = self.feature_options.get(key)
            if value is not None and not (_finite(value) and value > 0):
                raise ValueError(f"{source}: {key} must be a positive number of seconds")

    def _check_tables(self, source: str) -> None:
        """protocol_options names protocols and their options; select names subjects and folds."""
        from ..protocols import PROTOCOLS

        for name, options in self.protocol_options.items():
            if name not in PROTOCOLS or not isinstance(options, dict):
                raise ValueError(f"{source}: protocol_options.{name} is not a protocol's table")
            _check_protocol_options(source, name, options)
        unknown = sorted(set(self.select) - {"subjects", "folds"})
        if unknown:
            raise ValueError(f"{source}: select takes subjects and folds, not {unknown}")
        for fold in self.select.get("folds", []):
            _check_int(source, "select.folds", fold, 0, 10**6)

    def _check_per_dataset(self, source: str) -> None:
        """per_dataset names datasets, and each holds lists of registry names its dataset
        offers (`PER_DATASET`) and a synthetic table."""
        from ..datasets import CARDS
        from ..models import MODELS
        from ..protocols import PROTOCOLS

        for dataset, values in self.per_dataset.items():
            where = f"per_dataset.{dataset}"
            if dataset not in CARDS or not isinstance(values, dict):
                raise ValueError(f"{source}: {where} is not a dataset's table")
            unknown = sorted(set(values) - {*PER_DATASET, "synthetic"})
            if unknown:
                raise ValueError(f"{source}: {where} takes no {', '.join(unknown)}")
            offered = card(dataset).labels
            registries = {
                "models": MODELS,
                "protocols": PROTOCOLS,
                "labels": offered.schemes,
                "dimensions": offered.dimensions,
            }
            for key, registry in registries.items():
                _check_names_in(source, f"{where}.{key}", values.get(key, []), registry)
            synthetic = values.get("synthetic", {})
            if not isinstance(synthetic, dict):
                raise ValueError(f"{source}: {where}.synthetic must be a table")
            _check_synthetic(source, f"{where}.synthetic", synthetic)

    def describe(self) -> str:
        """One line: what runs."""
        return (
            f"{'+'.join(self.datasets)}: models {', '.join(self.models) or 'default'}; "
            f"protocols {', '.join(self.protocols) or 'default'}; profile {self.profile}; "
            f"seed {'recipe' if self.seed is None else self.seed}"
        )


def differences(first: Experiment, second: Experiment) -> list[str]:
    """Each field (a table's keys one by one) in which the cores of two experiments differ, as
    "name first vs second", e.g. "threshold 3 vs 4" ("-" for a value left out)."""
    return _differences(first.core(), second.core(), "")


def _differences(first: dict, second: dict, prefix: str) -> list[str]:
    found = []
    for key in dict.fromkeys([*first, *second]):
        a, b = first.get(key), second.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            found.append(f"{prefix}{key} {_shown(a)} vs {_shown(b)}")
    return found


def _shown(value) -> str:
    return "-" if value is None or value == {} else str(value)


def _check_synthetic(source: str, where: str, table: dict) -> None:
    """A synthetic table holds only subjects, seconds and seed, each in range."""
    unknown = sorted(set(table) - {"subjects", "seconds", "seed"})
    if unknown:
        raise ValueError(f"{source}: {where} takes subjects, seconds and seed, not {unknown}")
    _check_int(source, f"{where}.subjects", table.get("subjects", 2), 2, 1000)
    _check_int(source, f"{where}.seed", table.get("seed", 0), 0, 2**32 - 1)
    seconds = table.get("seconds", 20.0)
    if not (_finite(seconds) and 2 <= seconds <= 3600):
        raise ValueError(f"{source}: {where}.seconds must be within 2..3600")


def _check_names_in(source: str, key: str, chosen, registry) -> None:
    """`chosen` is a list of names of `registry` (ValueError naming the key otherwise)."""
    if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
        raise ValueError(f"{source}: {key} must be a list of names")
    wrong = [c for c in chosen if c not in registry]
    if wrong:
        raise ValueError(
            f"{source}: unknown {key} {', '.join(map(repr, wrong))}; "
            f"available: {', '.join(registry)}"
        )


def _check_protocol_options(source: str, name: str, options: dict) -> None:
    """Refuse options the protocol does not take (one line, naming them)."""
    import inspect

    from ..protocols import PROTOCOLS

    accepted = set(inspect.signature(PROTOCOLS[name]).parameters)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(
            f"{source}: protocol {name} takes no {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(accepted))}"
        )


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(source, key, value, low, high) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{source}: {key} must be a whole number within {low}..{high}")

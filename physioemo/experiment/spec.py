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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .._json import digest
from .._version import __version__
from ..datasets import card

#: fields that choose which jobs of an experiment run; runs that differ only in these merge
SELECTORS = ("datasets", "models", "protocols", "dimensions", "select")
#: fields that describe the machine or the summary, not the jobs' results
LOCAL = ("roots", "threads", "permutations")

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
        import tomli_w

        content = {k: v for k, v in asdict(self).items() if v is not None}
        return tomli_w.dumps(content)

    def core(self) -> dict:
        """The experiment without its job selection and machine-local settings."""
        return {k: v for k, v in asdict(self).items() if k not in SELECTORS + LOCAL}

    def core_digest(self) -> str:
        """Digest of `core()` and the physioemo version: runs with equal digests merge."""
        return digest({"core": self.core(), "version": __version__})

    # ------------------------------------------------------------------ what runs
    def synthetic_for(self, dataset: str) -> dict:
        """subjects, seconds and seed of `dataset`'s synthetic data."""
        return {**card(dataset).synthetic, "seed": 0, **self.synthetic}

    def models_for(self, dataset: str) -> list[str]:
        return list(self.models or card(dataset).models)

    def protocols_for(self, dataset: str) -> list[str]:
        return list(self.protocols or card(dataset).protocols)

    def labels_for(self, dataset: str) -> list[str]:
        offered = card(dataset).labels.schemes
        return [n for n in self.labels if n in offered] if self.labels else [offered[0]]

    def dimensions_for(self, dataset: str) -> list[str]:
        known = card(dataset).labels
        if not self.dimensions:
            return list(known.default)
        return [d for d in self.dimensions if d in known.dimensions]

    # ------------------------------------------------------------------ checks
    def validate(self, source: str = "experiment") -> None:
        """Raise ValueError (one line, naming the key) unless every choice is a registry entry
        and every number is in range."""
        self._check_names(source)
        self._check_datasets_offer(source)
        self._check_numbers(source)
        self._check_synthetic(source)
        self._check_tables(source)

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
            if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
                raise ValueError(f"{source}: {key} must be a list of names")
            wrong = [c for c in chosen if c not in registry]
            if wrong:
                raise ValueError(
                    f"{source}: unknown {key} {', '.join(map(repr, wrong))}; "
                    f"available: {', '.join(registry)}"
                )
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

    def _check_synthetic(self, source: str) -> None:
        """The synthetic table holds only subjects, seconds and seed, each in range."""
        unknown = sorted(set(self.synthetic) - {"subjects", "seconds", "seed"})
        if unknown:
            raise ValueError(f"{source}: synthetic takes subjects, seconds and seed, not {unknown}")
        _check_int(source, "synthetic.subjects", self.synthetic.get("subjects", 2), 2, 1000)
        _check_int(source, "synthetic.seed", self.synthetic.get("seed", 0), 0, 2**32 - 1)
        seconds = self.synthetic.get("seconds", 20.0)
        if not (_finite(seconds) and 2 <= seconds <= 3600):
            raise ValueError(f"{source}: synthetic.seconds must be within 2..3600")

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

    def describe(self) -> str:
        """One line: what runs."""
        return (
            f"{'+'.join(self.datasets)}: models {', '.join(self.models) or 'default'}; "
            f"protocols {', '.join(self.protocols) or 'default'}; profile {self.profile}; "
            f"seed {'recipe' if self.seed is None else self.seed}"
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

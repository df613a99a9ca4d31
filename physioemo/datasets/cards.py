"""One card per dataset: everything the rest of physioemo knows about it, in one place.

Adding a dataset is a loader, a synthetic writer and one card listed in `CARDS`: `load`,
``physioemo synth``, the label schemes, the experiment engine's defaults and ``physioemo
reproduce`` all read the cards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path

from ..labels import CategoricalScheme, DatasetLabels


@dataclass(frozen=True, kw_only=True)
class DatasetCard:
    """What physioemo knows about one dataset.

    name: its registry name. loader: ``loader(root, **options) -> Dataset``; writer:
        ``writer(out_dir, subjects=..., seconds=..., seed=...) -> Path``, its synthetic data in
        the real file format. Each a function, or "module:function" imported when first used
        (so ``import physioemo`` stays fast).
    dimensions: its rating dimensions; default_dimensions: those `physioemo bench` uses unless
        told otherwise. scale: (lowest rating, highest rating, default binary threshold) of a
        dataset rated on a scale (schemes "binary" and "ordinal"), or categorical: scheme
        name -> `CategoricalScheme` of a dataset whose rating is a category code.
    modalities: the signal kinds its recordings carry ("eeg" and the peripheral streams:
        "ecg", "eda", "ppg", ...); a dataset without EEG is read through peripheral features.
    synthetic: size of the built-in synthetic data `physioemo bench` writes (subjects, and
        seconds: the clip length, or the protocol's unit). small: the sizes ``physioemo synth``
        writes unless told (empty: the writer's own; a dataset with sizes here is large by
        default, and ``--full`` writes that). n_subjects: subjects of the real dataset (the
        synthetic size under ``physioemo reproduce --profile full``).
    models, protocols: registry names `physioemo bench --dataset NAME` runs by default.
    stimuli: what a recording's `trial` number says about the clip or video it showed.
    stimulus_id: that, as a format of the recording's ``session``, ``trial`` and ``meta``
        (`stimulus_of`): equal ids mean the same clip or video; "" when trials carry none.
    """

    name: str
    loader: Callable | str
    writer: Callable | str
    dimensions: tuple[str, ...]
    default_dimensions: tuple[str, ...]
    scale: tuple[int, int, float] | None = None
    categorical: dict[str, CategoricalScheme] = field(default_factory=dict)
    modalities: tuple[str, ...]
    synthetic: dict
    small: dict = field(default_factory=dict)
    n_subjects: int
    models: tuple[str, ...]
    protocols: tuple[str, ...]
    stimuli: str
    stimulus_id: str = ""

    def stimulus_of(self, session: int, trial: int, meta: dict | None = None) -> str:
        """The id of the clip or video a trial showed (`stimulus_id`), e.g. "clip7"."""
        return self.stimulus_id.format(session=session, trial=trial, meta=meta or {})

    @property
    def labels(self) -> DatasetLabels:
        """Its label schemes and rating dimensions (`labels.make` takes them)."""
        return DatasetLabels(
            self.name, self.dimensions, self.default_dimensions, self.scale, self.categorical
        )

    @property
    def peripheral(self) -> bool:
        """Whether its features are peripheral ones (it has no EEG)."""
        return "eeg" not in self.modalities

    def load(self, root: str | Path, **options):
        """The `Dataset` read from `root` by the card's loader."""
        return _resolve(self.loader)(root, **options)

    def write(self, out_dir: str | Path, **sizes) -> Path:
        """Write synthetic data into `out_dir` (sizes: subjects, seconds, seed, ...)."""
        return _resolve(self.writer)(out_dir, **sizes)


def _resolve(target: Callable | str) -> Callable:
    if callable(target):
        return target
    module, function = target.split(":")
    return getattr(import_module(module), function)


DREAMER = DatasetCard(
    name="dreamer",
    loader="physioemo.datasets.dreamer:load_dreamer",
    writer="physioemo.datasets.synthetic.dreamer:write_dreamer",
    dimensions=("valence", "arousal", "dominance"),
    default_dimensions=("valence", "arousal"),
    scale=(1, 5, 3.0),
    modalities=("eeg", "ecg"),
    synthetic={"subjects": 10, "seconds": 20.0},
    n_subjects=23,
    models=("logreg", "histn", "rbtransformer"),
    protocols=("subject-dependent", "subject-independent"),
    stimuli="18 film clips, the same for every subject: trial k is clip k",
    stimulus_id="clip{trial}",
)

DEAP = DatasetCard(
    name="deap",
    loader="physioemo.datasets.deap:load_deap",
    writer="physioemo.datasets.synthetic.deap:write_deap",
    dimensions=("valence", "arousal", "dominance", "liking"),
    default_dimensions=("valence", "arousal"),
    scale=(1, 9, 5.0),
    modalities=("eeg", "eog", "emg", "eda", "resp", "ppg", "temp"),
    synthetic={"subjects": 8, "seconds": 20.0},
    small={"subjects": 3, "seconds": 5.0},
    n_subjects=32,
    models=("logreg", "histn", "rbtransformer"),
    protocols=("subject-dependent", "subject-independent"),
    stimuli=(
        "40 music videos: trial k is the video with Experiment_id k; meta 'Trial' is its "
        "position in the subject's presentation order (from participant_ratings.csv)"
    ),
    stimulus_id="video{trial}",
)

SEED = DatasetCard(
    name="seed",
    loader="physioemo.datasets.seed:load_seed",
    writer="physioemo.datasets.synthetic.seed:write_seed",
    dimensions=("emotion",),
    default_dimensions=("emotion",),
    # the rating holds label.mat's value + 1
    categorical={
        "3-class": CategoricalScheme(
            "emotion", ("negative", "neutral", "positive"), ((0,), (1,), (2,))
        ),
    },
    modalities=("eeg",),
    synthetic={"subjects": 5, "seconds": 8.0},
    n_subjects=15,
    models=("logreg", "rbtransformer"),
    # the same clips in every session: k-fold over trials would test clips seen in training
    protocols=("stimulus-independent", "subject-independent"),
    stimuli="15 film clips, the same in every session: trial k is clip k",
    stimulus_id="clip{trial}",
)

#: SEED-IV: the SEED lab's setup (EEG, subjects, sizes, models), other clips and four emotions
SEED_IV = replace(
    SEED,
    name="seed-iv",
    loader="physioemo.datasets.seed:load_seed_iv",
    writer="physioemo.datasets.synthetic.seed:write_seed_iv",
    categorical={
        "4-class": CategoricalScheme(
            "emotion", ("neutral", "sad", "fear", "happy"), ((0,), (1,), (2,), (3,))
        ),
    },
    protocols=("subject-dependent", "subject-independent"),
    stimuli="24 film clips per session, other ones each session: trial k is its clip k",
    stimulus_id="session{session}-clip{trial}",
)

WESAD = DatasetCard(
    name="wesad",
    loader="physioemo.datasets.wesad:load_wesad",
    writer="physioemo.datasets.synthetic.wesad:write_wesad",
    dimensions=("condition",),
    default_dimensions=("condition",),
    # the rating holds the label code of the segment
    categorical={
        # Schmidt et al. (2018): 3-class, and binary stress vs non-stress (baseline + amusement)
        "3-class": CategoricalScheme(
            "condition", ("baseline", "stress", "amusement"), ((1,), (2,), (3,))
        ),
        "binary": CategoricalScheme("condition", ("non-stress", "stress"), ((1, 3), (2,))),
        # ours: the 3 classes plus meditation
        "4-class": CategoricalScheme(
            "condition",
            ("baseline", "stress", "amusement", "meditation"),
            ((1,), (2,), (3,), (4,)),
        ),
    },
    modalities=("ecg", "emg", "eda", "temp", "resp", "acc", "ppg"),
    # seconds: WESAD's protocol unit (the stress condition's length)
    synthetic={"subjects": 8, "seconds": 150.0},
    n_subjects=15,
    models=("pinn", "logreg", "rf"),
    protocols=("subject-independent",),
    stimuli=(
        "no clip per trial: trial k is the k-th protocol condition in time order "
        "(baseline, TSST stress, amusement clips, meditation), the same for every subject"
    ),
    stimulus_id="{meta[condition]}",
)

#: any BIDS emotion dataset (``physioemo export-bids`` writes one); its synthetic data is a
#: synthetic DREAMER exported as BIDS, so it carries DREAMER's rating schemes (a loaded dataset's
#: own, from its events.json, are `BidsDataset.labels`)
BIDS = replace(
    DREAMER,
    name="bids",
    loader="physioemo.datasets.bids:load_bids",
    writer="physioemo.datasets.bids:write_synthetic_bids",
    synthetic={"subjects": 4, "seconds": 10.0},
    stimuli=(
        "what the dataset's events say; in our export trial k is run k (DREAMER's clip k in "
        "the synthetic data)"
    ),
    # ours: an id from the events ("stimulus" column, which our export writes), else none
    stimulus_id="",
)

#: synthetic data seed of the development subjects (``physioemo bench --development``): every
#: dataset's writer draws subjects and clips from its seed alone, so these are drawn
#: independently of the evaluation data (seed 0: the demo, README and docs). Recipe choices
#: that need data are made on them (or on inner validation data); they are never reported.
DEVELOPMENT_SEED = 1

#: registry name -> card: the one list of datasets (the CLI, experiment files and docs read it)
CARDS = {card.name: card for card in (DREAMER, DEAP, SEED, SEED_IV, WESAD, BIDS)}

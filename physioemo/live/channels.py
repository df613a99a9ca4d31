"""Map a source's channels onto the channels a model was trained on.

Names match through `physioemo.montage.match_key` (any case, T3=T7 and the other aliases, SEED's
CB1/CB2). Channels the model needs and the source lacks (or that went bad during the stream)
are interpolated from the source's other channels with MNE's spherical splines on the template
10-05 head when each has at least `montage.MIN_NEIGHBOURS` usable electrodes within
`montage.NEIGHBOUR_RADIUS`; otherwise the mapping is refused, naming the electrodes that
cannot be filled in.
"""

from __future__ import annotations

import numpy as np

from .. import montage
from . import MontageError


class ChannelMap:
    """A fixed linear map from source channels to model channels.

    Either `picks` (model channel i is source channel picks[i]) or `matrix`
    (n_model, n_source), when some model channels are interpolated: `interpolated` names
    those. `description` says in one line what the map does.
    """

    def __init__(self, picks=None, matrix=None, description="", interpolated=()):
        self.picks = None if picks is None else np.asarray(picks, dtype=int)
        self.matrix = matrix
        self.description = description
        self.interpolated = tuple(interpolated)

    @property
    def n_model(self) -> int:
        """The model's channels."""
        return len(self.picks) if self.picks is not None else len(self.matrix)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """(..., n_source, n_times) -> (..., n_model, n_times)."""
        if self.picks is not None:
            return x[..., self.picks, :]
        return np.matmul(self.matrix, x)


def map_channels(model_names, source_names, exclude=()) -> ChannelMap:
    """The map from `source_names` to `model_names`: reorder, pick or interpolate.

    exclude: indices of source channels not to use (bad channels); model channels they would
    have fed are interpolated from the others. Raises MontageError naming the model channels
    that are missing and cannot be interpolated.
    """
    model_names, source_names = list(model_names), list(source_names)
    skip = set(exclude)
    usable = {montage.match_key(n): i for i, n in enumerate(source_names) if i not in skip}
    found = {
        name: usable[montage.match_key(name)]
        for name in model_names
        if montage.match_key(name) in usable
    }
    missing = [name for name in model_names if name not in found]
    if not missing:
        picks = [found[name] for name in model_names]
        return ChannelMap(picks=picks, description=_pick_description(picks, source_names))
    sources = [i for i in usable.values() if montage.canonical(source_names[i]) is not None]
    placed = [source_names[i] for i in sources]
    lonely = [
        name
        for name in missing
        if montage.canonical(name) is None
        or len(montage.neighbours(name, placed)) < montage.MIN_NEIGHBOURS
    ]
    if lonely:
        raise MontageError(
            f"the model needs {' '.join(lonely)}, which the source lacks and cannot be "
            f"interpolated (each needs {montage.MIN_NEIGHBOURS} source electrodes within "
            f"{montage.NEIGHBOUR_RADIUS * 100:g} cm); model channels: {' '.join(model_names)}; "
            f"source channels: {' '.join(source_names)}"
        )
    weights = montage.spline_weights(placed, missing)
    matrix = np.zeros((len(model_names), len(source_names)))
    for row, name in enumerate(model_names):
        if name in found:
            matrix[row, found[name]] = 1.0
        else:
            matrix[row, sources] = weights[missing.index(name)]
    return ChannelMap(
        matrix=matrix,
        description=f"{len(found)} of {len(model_names)} model channels from the source, "
        f"interpolated (spherical splines, MNE): {' '.join(missing)}",
        interpolated=missing,
    )


def _pick_description(picks, source_names) -> str:
    if list(picks) == list(range(len(source_names))):
        return f"source channels used as they are ({len(picks)})"
    ignored = [n for i, n in enumerate(source_names) if i not in set(picks)]
    if not ignored:
        return f"source channels reordered ({len(picks)})"
    return (
        f"picked {len(picks)} of {len(source_names)} source channels (ignored: {' '.join(ignored)})"
    )

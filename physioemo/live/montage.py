"""Map a board's channels onto the channels a model was trained on.

Names match case-insensitively, and the old 10-20 temporal names match their new ones
(T3=T7, T4=T8, T5=P7, T6=P8). Channels the model needs and the board lacks (or that went bad
during the stream) are interpolated from the board's other channels with MNE's spherical
splines on MNE's template 10-05 montage. Our choice: at least half of the model's channels must
come straight from the board, else the mapping is refused.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from . import MontageError

#: Old 10-20 names -> the names that replaced them at the same sites.
ALIASES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
#: Fraction of the model's channels that must be on the board (ours).
MIN_MATCH = 0.5


def _key(name: str) -> str:
    upper = name.strip().upper()
    return ALIASES.get(upper, upper)


@cache
def _montage():
    """MNE's template 10-05 montage and the centre of the sphere fitted to all its electrodes
    (the interpolation origin)."""
    import mne

    from ..recording import standard_montage

    montage = standard_montage("1005")
    info = mne.create_info(montage.ch_names, 1000.0, "eeg")
    info.set_montage(montage)
    _, origin, _ = mne.bem.fit_sphere_to_headshape(
        info, dig_kinds=("eeg",), units="m", verbose=False
    )
    return montage, tuple(origin)


@cache
def _positions() -> dict[str, str]:
    """Upper-case key -> the spelling of that electrode in the template montage."""
    return {_key(n): n for n in _montage()[0].ch_names}


class ChannelMap:
    """A fixed linear map from board channels to model channels.

    Either `picks` (model channel i is board channel picks[i]) or `matrix`
    (n_model, n_board), when some model channels are interpolated.
    `description` says in one line what the map does.
    """

    def __init__(self, picks=None, matrix=None, description=""):
        self.picks = None if picks is None else np.asarray(picks, dtype=int)
        self.matrix = matrix
        self.description = description

    def apply(self, x: np.ndarray) -> np.ndarray:
        """(..., n_board, n_times) -> (..., n_model, n_times)."""
        if self.picks is not None:
            return x[..., self.picks, :]
        return np.matmul(self.matrix, x)


def spline_weights(sources: list[str], targets: list[str]) -> np.ndarray:
    """(n_targets, n_sources) spherical-spline weights from MNE on the template 10-05 montage.

    MNE interpolates one basis signal per source channel; the interpolated targets of that
    basis are the weights of the source.
    """
    import mne

    montage, origin = _montage()
    positions = _positions()
    names = [positions[_key(n)] for n in sources + targets]
    info = mne.create_info(names, 1000.0, "eeg")
    info.set_montage(montage, match_case=False)
    basis = np.zeros((len(names), len(sources)))
    basis[np.arange(len(sources)), np.arange(len(sources))] = 1.0
    raw = mne.io.RawArray(basis, info, verbose=False)
    raw.info["bads"] = names[len(sources) :]
    raw.interpolate_bads(reset_bads=True, origin=origin, verbose=False)
    return raw.get_data()[len(sources) :]


def map_channels(model_names, board_names, exclude=()) -> ChannelMap:
    """The map from `board_names` to `model_names`: reorder, pick or interpolate.

    exclude: indices of board channels not to use (bad channels); model channels they would
    have fed are interpolated from the others. Raises MontageError when fewer than half of the
    model's channels are on the board or a channel to interpolate has no standard position.
    """
    model_names, board_names = list(model_names), list(board_names)
    usable = {_key(n): i for i, n in enumerate(board_names) if i not in set(exclude)}
    found = {name: usable[_key(name)] for name in model_names if _key(name) in usable}
    missing = [name for name in model_names if name not in found]
    needed = math.ceil(MIN_MATCH * len(model_names))
    if len(found) < needed:
        raise MontageError(
            f"the model expects {len(model_names)} channels ({' '.join(model_names)}) and the "
            f"board gives {len(found)} of them ({' '.join(found) or 'none'}); at least {needed} "
            f"must match (board channels: {' '.join(board_names)})"
        )
    if not missing:
        picks = [found[name] for name in model_names]
        return ChannelMap(picks=picks, description=_pick_description(picks, board_names))
    return _interpolating_map(model_names, board_names, found, missing, usable)


def _pick_description(picks, board_names) -> str:
    if list(picks) == list(range(len(board_names))):
        return f"board channels used as they are ({len(picks)})"
    ignored = [n for i, n in enumerate(board_names) if i not in set(picks)]
    if not ignored:
        return f"board channels reordered ({len(picks)})"
    return (
        f"picked {len(picks)} of {len(board_names)} board channels (ignored: {' '.join(ignored)})"
    )


def _interpolating_map(model_names, board_names, found, missing, usable) -> ChannelMap:
    positions = _positions()
    unplaced = [n for n in missing if _key(n) not in positions]
    if unplaced:
        raise MontageError(
            f"cannot interpolate {' '.join(unplaced)}: no position in the 10-05 montage; "
            "give the model a board with these channels"
        )
    sources = [i for key, i in usable.items() if key in positions]
    if len(sources) < 3:
        raise MontageError(
            f"cannot interpolate {' '.join(missing)}: fewer than 3 board channels have "
            "standard positions"
        )
    weights = spline_weights([board_names[i] for i in sources], missing)
    matrix = np.zeros((len(model_names), len(board_names)))
    for row, name in enumerate(model_names):
        if name in found:
            matrix[row, found[name]] = 1.0
        else:
            matrix[row, sources] = weights[missing.index(name)]
    return ChannelMap(
        matrix=matrix,
        description=f"{len(found)} of {len(model_names)} model channels from the board, "
        f"interpolated (spherical splines, MNE): {' '.join(missing)}",
    )

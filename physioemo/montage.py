"""Electrodes on the scalp: names, positions, channel types, regions and neighbours.

The one place physioemo knows where an electrode sits. Positions come from MNE's template
10-05 montage (`standard_montage`); a channel name is looked up through `canonical`:

* case and surrounding spaces do not matter (``FP1`` = ``Fp1``, ``cz`` = ``Cz``, SEED's ``FPZ``,
  ``CPZ``, ``OZ`` ...), nor a leading ``EEG`` or a trailing ``-REF`` (EDF labels such as
  ``EEG Fp1-REF``);
* `ALIASES` is the one alias table: the old 10-20 temporal names (T3/T4/T5/T6, renamed T7/T8/P7/P8
  in the 10-10 system, same sites) and SEED's cerebellar CB1/CB2, which no 10-05 name covers. Our
  choice for CB1/CB2: PO9/PO10, because MNE's own colin27 template in Oostenveld's "postfixed" 10-5
  naming (``colin27_postfixed``) puts Cb1 exactly at PO9 and Cb2 exactly at PO10 (same head, same
  coordinates); SEED's Neuroscan cap places them low over the cerebellum, below PO7/PO8, which
  is where PO9/PO10 are.

Everything here that needs MNE imports it when called.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

#: Other names of 10-05 sites (upper case) -> the template's name of the site.
ALIASES = {
    "T3": "T7",
    "T4": "T8",
    "T5": "P7",
    "T6": "P8",
    "CB1": "PO9",
    "CB2": "PO10",
}
#: A missing electrode is interpolated only when at least `MIN_NEIGHBOURS` usable electrodes
#: lie within `NEIGHBOUR_RADIUS` metres of it on the template head (ours: neighbouring 10-20
#: sites are 5.6-7.6 cm apart there, so this asks for two electrodes within about one spacing
#: and a bit).
NEIGHBOUR_RADIUS = 0.09
MIN_NEIGHBOURS = 2
#: MNE channel type -> keywords that mark it at the start of a word of a channel name
#: (``chest_ECG``, ``hEOG``, ``Respiration``, ``wrist_EDA``); see `channel_type`.
TYPE_KEYWORDS = {
    "ecg": ("ECG", "EKG"),
    "emg": ("EMG",),
    "eog": ("EOG",),
    "gsr": ("GSR", "EDA"),
    "resp": ("RESP",),
    "temperature": ("TEMP",),
    "bio": ("BVP", "PPG", "PLETH"),
    "misc": ("ACC", "GYRO"),
}
_DECORATION = re.compile(r"^(EEG[\s_-]+)?(.*?)(-REF)?$", re.IGNORECASE)


def standard_montage(system: str = "1020"):
    """MNE's template montage of the 10-20 ("1020") or 10-05 ("1005") system (named
    "colin27_<system>" from MNE 1.13, "standard_<system>" before)."""
    import mne

    names = mne.channels.get_builtin_montages()
    name = f"colin27_{system}"
    return mne.channels.make_standard_montage(name if name in names else f"standard_{system}")


@cache
def _sites() -> dict[str, tuple[str, np.ndarray]]:
    """Upper-case 10-05 name -> (the template's spelling, head-frame position in m)."""
    positions = standard_montage("1005").get_positions()["ch_pos"]
    return {name.upper(): (name, np.asarray(xyz)) for name, xyz in positions.items()}


def _bare(name: str) -> str:
    """The name without case, spaces, a leading "EEG" or a trailing "-REF"."""
    return _DECORATION.match(str(name).strip()).group(2).strip().upper()


def canonical(name: str) -> str | None:
    """The template's spelling of the 10-05 site `name` stands for, or None when it names
    none: ``canonical("T3") == "T7"``, ``canonical("FPZ") == "Fpz"``,
    ``canonical("CB1") == "PO9"``, ``canonical("EEG1") is None``."""
    bare = _bare(name)
    site = _sites().get(ALIASES.get(bare, bare))
    return None if site is None else site[0]


def match_key(name: str) -> str:
    """What two channel names must share to be the same electrode: the 10-05 site, else the
    bare upper-case name (so ``EEG1`` still matches ``eeg1``)."""
    return canonical(name) or _bare(name)


def unplaced(ch_names) -> list[str]:
    """The names in `ch_names` that name no 10-05 site."""
    return [name for name in ch_names if canonical(name) is None]


def positions(ch_names) -> dict[str, np.ndarray]:
    """Head-frame positions (m) of `ch_names` on MNE's template 10-05 head, by the given names.

    Raises ValueError listing the names that stand for no 10-05 site.
    """
    missing = unplaced(ch_names)
    if missing:
        raise ValueError(
            f"no 10-05 position for channel(s) {' '.join(missing)} (names are matched "
            "case-insensitively, with T3/T4/T5/T6 and CB1/CB2 as aliases)"
        )
    sites = _sites()
    return {name: sites[canonical(name).upper()][1] for name in ch_names}


def digmontage(ch_names):
    """An `mne.channels.DigMontage` of the placeable names in `ch_names`, under those very
    names (``FPZ``, ``CB1``, ``T3`` ...), with the template's fiducials; for ``set_montage``
    (pass ``on_missing="ignore"`` when some channels have no position)."""
    import mne

    template = standard_montage("1005").get_positions()
    placed = [name for name in ch_names if canonical(name) is not None]
    return mne.channels.make_dig_montage(
        ch_pos=positions(placed),
        nasion=template["nasion"],
        lpa=template["lpa"],
        rpa=template["rpa"],
        coord_frame="head",
    )


def channel_type(name: str) -> str:
    """MNE's channel type for a channel known only by its name: "eeg" for a 10-05 site; else
    the first `TYPE_KEYWORDS` type one of whose keywords starts a word of the name (a word may
    carry one lower-case letter in front: DEAP's hEOG, zEMG); else "eeg" (our choice: the
    unnamed channels of headsets, EEG1..EEGn, are EEG)."""
    if canonical(name) is not None:
        return "eeg"
    for word in re.split(r"[^A-Za-z0-9]+", str(name)):
        candidates = [word.upper()]
        if word[:1].islower() and word[1:2].isupper():
            candidates.append(word[1:].upper())
        for ch_type, keywords in TYPE_KEYWORDS.items():
            if any(c.startswith(k) for c in candidates for k in keywords):
                return ch_type
    return "eeg"


def channel_types(ch_names) -> list[str]:
    """`channel_type` of every name."""
    return [channel_type(name) for name in ch_names]


def regions(ch_names) -> dict[str, list[str]]:
    """Our five regions around the head, in ring order, empty ones dropped: left-anterior,
    left-posterior, midline, right-posterior, right-anterior (midline when |x| < 1 cm on the
    template head; anterior when y > 0)."""
    where = positions(ch_names)
    split = {
        "left-anterior": [],
        "left-posterior": [],
        "midline": [],
        "right-posterior": [],
        "right-anterior": [],
    }
    for name in ch_names:
        x, y, _ = where[name]
        if abs(x) < 0.01:
            split["midline"].append(name)
        else:
            side = "left" if x < 0 else "right"
            split[f"{side}-{'anterior' if y > 0 else 'posterior'}"].append(name)
    return {k: v for k, v in split.items() if v}


def nearest_edges(ch_names, k: int) -> list[tuple[str, str]]:
    """Undirected edges joining every electrode to its `k` nearest among `ch_names`, sorted
    pairs of names without repeats."""
    names = list(ch_names)
    where = positions(names)
    xyz = np.array([where[n] for n in names])
    distance = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    edges = set()
    for i, row in enumerate(distance):
        for j in np.argsort(row)[1 : k + 1]:
            edges.add(tuple(sorted((names[i], names[j]))))
    return sorted(edges)


def neighbours(name: str, candidates, radius: float = NEIGHBOUR_RADIUS) -> list[str]:
    """The placeable `candidates` within `radius` m of electrode `name` (itself excluded)."""
    here = positions([name])[name]
    placed = [c for c in candidates if canonical(c) is not None]
    where = positions(placed)
    return [
        c
        for c in placed
        if match_key(c) != match_key(name) and np.linalg.norm(where[c] - here) <= radius
    ]


@cache
def interpolation_origin() -> tuple[float, float, float]:
    """Centre (m) of the sphere fitted to all template electrodes: the spline origin."""
    import mne

    montage = standard_montage("1005")
    info = mne.create_info(montage.ch_names, 1000.0, "eeg")
    info.set_montage(montage)
    _, origin, _ = mne.bem.fit_sphere_to_headshape(
        info, dig_kinds=("eeg",), units="m", verbose=False
    )
    return tuple(float(v) for v in origin)


def spline_weights(sources, targets) -> np.ndarray:
    """(n_targets, n_sources) spherical-spline weights (MNE's `interpolate_bads`) that estimate
    the `targets` electrodes from the `sources` ones, on the template head.

    MNE interpolates one basis signal per source channel; the interpolated targets of that
    basis are the weights of the source.
    """
    import mne

    sources, targets = list(sources), list(targets)
    names = [canonical(n) for n in sources + targets]
    info = mne.create_info(names, 1000.0, "eeg")
    info.set_montage(digmontage(names))
    basis = np.zeros((len(names), len(sources)))
    basis[np.arange(len(sources)), np.arange(len(sources))] = 1.0
    raw = mne.io.RawArray(basis, info, verbose=False)
    raw.info["bads"] = names[len(sources) :]
    raw.interpolate_bads(reset_bads=True, origin=interpolation_origin(), verbose=False)
    return raw.get_data()[len(sources) :]


def flat_positions(ch_names) -> np.ndarray:
    """(n, 2) positions for a 2-D head map: azimuthal equidistant projection about the
    vertex of `interpolation_origin` (the head's rim, z at the origin's height, lands near
    radius pi/2), x to the right, y to the nose."""
    where = positions(ch_names)
    xyz = np.array([where[n] for n in ch_names]) - np.asarray(interpolation_origin())
    polar = np.arccos(np.clip(xyz[:, 2] / np.linalg.norm(xyz, axis=1), -1.0, 1.0))
    azimuth = np.arctan2(xyz[:, 1], xyz[:, 0])
    return np.column_stack([polar * np.cos(azimuth), polar * np.sin(azimuth)])

"""Asymmetry features between electrode pairs (SEED's DASM, RASM, ASM and DCAU).

All functions take band features of shape (..., n_channels, n_bands), e.g. DE from
`differential_entropy`, and the channel names in that order.

Pair rules (ours, derived from 10-20 names; for SEED's 62-channel order they give SEED's counts,
27 left/right pairs and 23 frontal/posterior pairs):

* left/right (`mirror_pairs`): a left electrode has an odd number, its mirror the same letters
  and the next even number (FP1-FP2, F7-F8, CB1-CB2, ...); midline (Z) electrodes have none.
* frontal/posterior (`frontal_posterior_pairs`): a frontal row is mirrored across the central
  row onto its posterior row with the same suffix: FP-O, AF-PO, F-P, FT-TP, FC-CP
  (FP1-O1, AF3-PO3, FZ-PZ, FT7-TP7, FCZ-CPZ, ...).
"""

from __future__ import annotations

import re

import numpy as np

#: SEED / SEED-IV channel order (62 electrodes, ESI NeuroScan cap).
SEED_CHANNELS = (
    "FP1 FPZ FP2 AF3 AF4 F7 F5 F3 F1 FZ F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8 T7 C5 C3 "
    "C1 CZ C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8 P7 P5 P3 P1 PZ P2 P4 P6 P8 PO7 PO5 PO3 "
    "POZ PO4 PO6 PO8 CB1 O1 OZ O2 CB2"
).split()

#: frontal row -> posterior row mirrored across the central row
FRONT_TO_BACK = {"FP": "O", "AF": "PO", "F": "P", "FT": "TP", "FC": "CP"}


def _split(name: str) -> tuple[str, str]:
    """("FC", "5") from "FC5", ("FP", "Z") from "Fpz"; ("", "") when not a 10-20 name."""
    match = re.fullmatch(r"([A-Z]+?)(Z|\d+)", name.upper())
    return (match.group(1), match.group(2)) if match else ("", "")


def mirror_pairs(ch_names) -> list[tuple[str, str]]:
    """(left, right) pairs present in `ch_names`, in the order of the left electrodes."""
    by_key = {_split(name): name for name in ch_names}
    pairs = []
    for name in ch_names:
        row, number = _split(name)
        if number.isdigit() and int(number) % 2 == 1:
            partner = by_key.get((row, str(int(number) + 1)))
            if partner is not None:
                pairs.append((name, partner))
    return pairs


def frontal_posterior_pairs(ch_names) -> list[tuple[str, str]]:
    """(frontal, posterior) pairs present in `ch_names`, in the order of the frontal ones."""
    by_key = {_split(name): name for name in ch_names}
    pairs = []
    for name in ch_names:
        row, suffix = _split(name)
        partner = by_key.get((FRONT_TO_BACK.get(row, ""), suffix))
        if row in FRONT_TO_BACK and partner is not None:
            pairs.append((name, partner))
    return pairs


def _pair_features(features, ch_names, pairs):
    features = np.asarray(features)
    ch_names = list(ch_names)
    if features.ndim < 2 or features.shape[-2] != len(ch_names):
        raise ValueError(
            f"features must have shape (..., n_channels={len(ch_names)}, n_bands), "
            f"got {features.shape}"
        )
    if not pairs:
        raise ValueError("no electrode pairs: ch_names hold no pair of the rule")
    missing = sorted({name for pair in pairs for name in pair} - set(ch_names))
    if missing:
        raise ValueError(f"pairs name electrodes not in ch_names: {missing}")
    first = [ch_names.index(a) for a, _ in pairs]
    second = [ch_names.index(b) for _, b in pairs]
    return features[..., first, :], features[..., second, :]


def dasm(features, ch_names, pairs=None) -> np.ndarray:
    """Differential asymmetry: left minus right, (..., n_pairs, n_bands)."""
    left, right = _pair_features(features, ch_names, pairs or mirror_pairs(ch_names))
    return left - right


def rasm(features, ch_names, pairs=None) -> np.ndarray:
    """Rational asymmetry: left divided by right, (..., n_pairs, n_bands)."""
    left, right = _pair_features(features, ch_names, pairs or mirror_pairs(ch_names))
    return left / right


def asm(features, ch_names, pairs=None) -> np.ndarray:
    """DASM and RASM concatenated along the pair axis, (..., 2 * n_pairs, n_bands)."""
    return np.concatenate(
        [dasm(features, ch_names, pairs), rasm(features, ch_names, pairs)], axis=-2
    )


def dcau(features, ch_names, pairs=None) -> np.ndarray:
    """Differential caudality: frontal minus posterior, (..., n_pairs, n_bands)."""
    front, back = _pair_features(features, ch_names, pairs or frontal_posterior_pairs(ch_names))
    return front - back

"""Checks of a checkpoint's metadata against the model it describes, shared by the torch and
the linear checkpoint formats: each refusal is a ValueError in one line naming the file and
the key.

A stream feeds a checkpoint's model the electrodes its ``ch_names`` list, in that order, and
names its outputs with ``labels.classes``: 14 names all "AF3" would feed one electrode to 14
inputs, and 3 class names on a 2-output model would put names on the wrong outputs, so both
must be unique and as many as the model's inputs and outputs. Importing this module imports
no torch.
"""

from __future__ import annotations

from ..errors import clean

#: longest channel or class name a checkpoint may hold (characters)
NAME_LIMIT = 256


def check_names(path, meta: dict, n_chans: int | None = None) -> list[str]:
    """meta.ch_names: distinct (case-insensitively) channel names, `n_chans` of them when
    given. Returns them."""
    names = _texts(path, meta.get("ch_names"), "ch_names", "channel names")
    if n_chans is not None and len(names) != n_chans:
        raise ValueError(
            f"{path}: key meta.ch_names: {len(names)} names for a model of {n_chans} input channels"
        )
    return names


def check_classes(path, meta: dict, n_outputs: int | None = None) -> list[str]:
    """meta.labels.classes: at least two distinct class names, `n_outputs` of them when
    given. Returns them."""
    labels = meta.get("labels")
    if not isinstance(labels, dict) or "classes" not in labels:
        raise ValueError(
            f"{path}: key meta.labels.classes is missing: a checkpoint names the class of "
            "each output"
        )
    classes = _texts(path, labels["classes"], "labels.classes", "class names")
    if len(classes) < 2:
        raise ValueError(f"{path}: key meta.labels.classes: expected at least two class names")
    if n_outputs is not None and len(classes) != n_outputs:
        raise ValueError(
            f"{path}: key meta.labels.classes: {len(classes)} class names for a model of "
            f"{n_outputs} outputs"
        )
    return classes


def check_kind(path, meta: dict, model: str, inputs: str) -> str:
    """meta.features.kind: a feature recipe whose windows are what `model` reads (`inputs`,
    its `models.INPUTS` key; "features" reads any). Returns the kind."""
    from ..features.recipes import RECIPES

    features = meta.get("features")
    kind = features.get("kind") if isinstance(features, dict) else None
    if not isinstance(kind, str) or kind not in RECIPES:
        raise ValueError(
            f"{path}: key meta.features.kind: expected one of {', '.join(RECIPES)}, "
            f"got {clean(kind, 40)!r}"
        )
    provides = RECIPES[kind].provides
    if inputs != "features" and provides != inputs:
        raise ValueError(
            f"{path}: key meta.features.kind: {kind} windows are {provides} inputs, but "
            f"{model} reads {inputs} inputs"
        )
    return kind


def _texts(path, value, key: str, what: str) -> list[str]:
    """`value` as a non-empty list of distinct, non-empty names."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and 0 < len(item) <= NAME_LIMIT for item in value)
    ):
        raise ValueError(f"{path}: key meta.{key}: expected a list of {what}")
    seen = set()
    for item in value:
        if item.casefold() in seen:
            raise ValueError(f"{path}: key meta.{key}: {clean(item, 40)!r} appears twice")
        seen.add(item.casefold())
    return value

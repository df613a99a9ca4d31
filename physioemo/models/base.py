"""The one model signature every torch model of physioemo shares, owned here once.

Every model takes, by keyword, the signature arguments

* ``n_chans``: input channels (electrodes; the PINN: per-window features),
* ``n_outputs``: classes,
* ``n_times``: samples per input window,
* ``sfreq``: sampling rate of the input windows, Hz,
* ``ch_names``: channel names in input order,
* ``window_seconds``: window length, s (only to infer ``n_times`` or ``sfreq``; not stored),

plus its own options. `SignatureMixin` infers what the others imply (n_chans from ch_names,
n_times from window_seconds x sfreq, sfreq from n_times / window_seconds), refuses arguments that
disagree with one ValueError naming them, and records every constructor argument of the model
however it was built, so `get_config()` / `from_config()` rebuild it and a checkpoint can be
written of any model (`physioemo.training.checkpoint`). Arguments a model does not need stay
None. The idea follows braindecode's ``EEGModuleMixin``; the code is ours.

    net = HiSTN(ch_names=names, n_outputs=2, sfreq=128.0, window_seconds=1.0)
    net.n_chans, net.n_times        # 14, 128
    HiSTN.from_config(net.get_config())   # same architecture, fresh weights

This module does not import torch.
"""

from __future__ import annotations

import functools
import inspect
import json
import numbers

SIGNATURE = ("n_chans", "n_outputs", "n_times", "sfreq", "ch_names")


def resolve_signature(
    model: str,
    n_chans: int | None = None,
    n_outputs: int | None = None,
    n_times: int | None = None,
    sfreq: float | None = None,
    ch_names=None,
    window_seconds: float | None = None,
) -> dict:
    """The five signature values with the inferable ones filled in.

    Raises ValueError naming `model` and the arguments that are missing, malformed or
    disagree (e.g. n_chans=13 with 14 ch_names; n_times=100 with 1.0 s at 128 Hz).
    """
    if ch_names is not None:
        ch_names = [str(name) for name in ch_names]
        if n_chans is not None and n_chans != len(ch_names):
            raise ValueError(f"{model}: n_chans={n_chans} but ch_names has {len(ch_names)} names")
        n_chans = len(ch_names)
    if window_seconds is not None:
        _positive(model, "window_seconds", window_seconds)
        if sfreq is not None:
            implied = int(round(window_seconds * sfreq))
            if n_times is not None and n_times != implied:
                raise ValueError(
                    f"{model}: n_times={n_times} but window_seconds={window_seconds:g} x "
                    f"sfreq={sfreq:g} gives {implied}"
                )
            n_times = implied
        elif n_times is not None:
            sfreq = n_times / window_seconds
    for name, value in (("n_chans", n_chans), ("n_outputs", n_outputs)):
        if value is None:
            hint = " (or ch_names)" if name == "n_chans" else ""
            raise ValueError(f"{model} needs {name}{hint}")
        _positive(model, name, value, integer=True)
    if n_times is not None:
        _positive(model, "n_times", n_times, integer=True)
    if sfreq is not None:
        _positive(model, "sfreq", sfreq)
    return {
        "n_chans": int(n_chans),
        "n_outputs": int(n_outputs),
        "n_times": None if n_times is None else int(n_times),
        "sfreq": None if sfreq is None else float(sfreq),
        "ch_names": ch_names,
    }


def _positive(model: str, name: str, value, integer: bool = False) -> None:
    number = isinstance(value, numbers.Integral if integer else numbers.Real)
    if isinstance(value, bool) or not number or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{model}: {name} must be {kind}, got {value!r}")


class SignatureMixin:
    """Owns the shared signature of a torch model (module docstring) and its configuration.

    Use as ``class Net(SignatureMixin, nn.Module)`` with a keyword-only constructor
    ``def __init__(self, *, own options..., **signature)`` that calls
    ``super().__init__(**signature)`` first; afterwards ``self.n_chans``, ``self.n_outputs``,
    ``self.n_times``, ``self.sfreq`` and ``self.ch_names`` hold the resolved values.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recorded(cls.__init__)

    def __init__(self, **signature):
        """signature: the keyword arguments of `resolve_signature`."""
        values = resolve_signature(type(self).__name__, **signature)
        super().__init__()
        for name, value in values.items():
            setattr(self, name, value)

    @property
    def window_seconds(self) -> float | None:
        """n_times / sfreq, when both are known."""
        return self.n_times / self.sfreq if self.n_times and self.sfreq else None

    def signature(self) -> dict:
        """The resolved signature: n_chans, n_outputs, n_times, sfreq, ch_names."""
        return {name: getattr(self, name) for name in SIGNATURE}

    def get_config(self) -> dict:
        """Every constructor argument (resolved signature + the model's options), as plain
        JSON data; ``type(model).from_config(config)`` builds the same architecture."""
        try:
            return json.loads(json.dumps(self._config))
        except TypeError as error:
            raise ValueError(
                f"{type(self).__name__}: a constructor argument is not plain data ({error}); "
                "such a model cannot be checkpointed"
            ) from error

    @classmethod
    def from_config(cls, config: dict):
        """A new model (fresh weights) built from `get_config()`'s dict."""
        return cls(**config)


def _recorded(init):
    """Wrap a model's __init__ so the outermost call records its arguments as the config."""
    parameters = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self).__init__ is not wrapper:  # an inner call of a subclass's __init__
            return
        bound = parameters.bind(self, *args, **kwargs)
        bound.apply_defaults()
        options = {}
        for name, value in list(bound.arguments.items())[1:]:
            kind = parameters.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                continue  # the signature arguments, recorded resolved below
            options[name] = value
        self._config = {**self.signature(), **options}

    return wrapper

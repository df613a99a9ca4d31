"""load_checkpoint refuses, in one line naming the file and key, what a checkpoint must not
make it do: build a model from out-of-bounds arguments, run NaN weights, unpickle code."""

import json
import math
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
import torch

from physioemo import models, montage
from physioemo.cli import main
from physioemo.models.hierarchy import DREAMER_CHANNELS
from physioemo.training import load_checkpoint, save_checkpoint

META = {
    "ch_names": [f"C{i}" for i in range(4)],
    "features": {"kind": "de", "window": 1.0, "stride": 1.0, "bands": None, "sfreq": 128.0},
    "labels": {
        "dimension": "valence",
        "kind": "binary",
        "threshold": 3.0,
        "classes": ["valence low", "valence high"],
    },
}


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    net = models.create("dgcnn", n_chans=4, n_outputs=2, n_bands=4)
    return save_checkpoint(tmp_path / "model.pt", net, dict(META))


def rewrite(path, change):
    """Load the checkpoint's plain content, apply `change` to it, save it back."""
    content = torch.load(path, weights_only=True)
    change(content)
    torch.save(content, path)
    return path


def refused(path, *parts):
    with pytest.raises(ValueError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message, message
    for part in parts:
        assert part in message, message


def test_a_sound_checkpoint_loads(checkpoint):
    model, meta = load_checkpoint(checkpoint)
    assert meta["args"]["n_chans"] == 4 and not model.training


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("n_chans", 2_000_000),
        ("n_chans", 0),
        ("n_chans", "4"),
        ("n_chans", True),
        ("n_outputs", 10**9),
        ("n_times", -1),
        ("sfreq", math.nan),
        ("sfreq", math.inf),
        ("sfreq", 0.0),
        ("hidden", 10**7),
        ("hidden", math.inf),
        ("regions", {"frontal": ["x" * 1000]}),
        ("ch_names", ["C0", "C1"]),
    ],
)
def test_constructor_arguments_are_checked_before_the_model_is_built(checkpoint, key, value):
    def change(content):
        content["meta"]["args"][key] = value

    rewrite(checkpoint, change)
    tracemalloc.start()
    try:
        refused(checkpoint, f"key meta.args.{key}")
        assert tracemalloc.get_traced_memory()[1] < 20_000_000  # nothing big was built
    finally:
        tracemalloc.stop()


def test_nan_and_infinite_weights_are_refused(checkpoint):
    def poison(content):
        name = next(k for k, v in content["state_dict"].items() if v.is_floating_point())
        content["state_dict"][name] = content["state_dict"][name].clone()
        content["state_dict"][name].view(-1)[0] = math.nan
        content["poisoned"] = name

    content = torch.load(rewrite(checkpoint, poison), weights_only=True)
    refused(checkpoint, f"key state_dict.{content['poisoned']}", "NaN or infinite")


def test_scaling_and_state_mismatch_are_one_line(checkpoint):
    def zero_std(content):
        content["meta"]["standardize"] = {"mean": [0.0], "std": [0.0]}

    refused(rewrite(checkpoint, zero_std), "key meta.standardize")

    def other_shapes(content):
        del content["meta"]["standardize"]
        content["meta"]["args"]["n_outputs"] = 3
        content["meta"]["labels"]["classes"] = ["low", "middle", "high"]

    refused(rewrite(checkpoint, other_shapes), "key state_dict does not fit dgcnn")


class Gadget:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.system, (f"touch {self.target}",)


def test_a_code_running_checkpoint_is_refused_in_one_line(tmp_path, capsys):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "physioemo-checkpoint-1", "meta": Gadget(target)}, path)
    refused(path, "refused by torch's weights-only loader (Trying to load unsupported GLOBAL posix")
    path.write_bytes(b"\x00" * 100)
    refused(path, "refused by torch's weights-only loader (Unsupported operand 0)")
    path.write_bytes(b"PK\x03\x04 damaged")
    refused(path, "not a readable checkpoint (RuntimeError: PytorchStreamReader failed")
    assert not target.exists()


def test_cli_reports_a_refused_checkpoint(tmp_path, capsys, monkeypatch):
    # the live command's model loading, without a board: one line, exit 2
    from physioemo.live import app

    path = tmp_path / "evil.pt"
    torch.save({"format": "physioemo-checkpoint-1", "meta": Gadget(tmp_path / "x")}, path)
    monkeypatch.setattr(app, "open_source", lambda args: None)
    assert main(["live", "--model", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"physioemo: error: {path}: refused by torch")


# ----------------------------------------------------------------------------- consistency
ELECTRODES = list(DREAMER_CHANNELS)  # AF3 first


@pytest.fixture
def rbt_checkpoint(tmp_path):
    """A small 14-channel, 2-output RBTransformer on DE windows."""
    torch.manual_seed(0)
    net = models.create("rbtransformer", n_chans=14, n_outputs=2, dim=16, depth=1, hidden=16)
    return save_checkpoint(tmp_path / "rbt.pt", net, {**META, "ch_names": list(ELECTRODES)})


def _set(*keys, value):
    """A change setting content["meta"][keys...] to value (None: delete it)."""

    def change(content):
        target = content["meta"]
        for key in keys[:-1]:
            target = target[key]
        if value is None:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "parts"),
    [
        (_set("ch_names", value=["AF3"] * 14), ["key meta.ch_names: 'AF3' appears twice"]),
        (_set("ch_names", value=ELECTRODES[:13]), ["13 names for a model of 14 input channels"]),
        (
            _set("labels", "classes", value=["low", "middle", "high"]),
            ["key meta.labels.classes: 3 class names for a model of 2 outputs"],
        ),
        (_set("labels", "classes", value=["low"]), ["expected at least two class names"]),
        (_set("labels", "classes", value=None), ["key meta.labels.classes is missing"]),
        (
            _set("features", "kind", value="raw"),
            ["key meta.features.kind: raw windows are raw inputs, but rbtransformer reads de"],
        ),
        (
            _set("model", value="dgcnn"),
            ["key meta.args: dgcnn cannot be built from them (TypeError:", "'dim'"],
        ),
        (_set("model", value="eegnet"), ["key meta.features.kind: de windows", "eegnet reads raw"]),
        (_set("model", value="logreg"), ["key meta.model: logreg is not a torch model"]),
        (_set("args", "dim", value="128"), ["key meta.args.dim: '128' is not a whole number"]),
        (_set("args", "dim", value=4096), ["key meta.args.dim: 4096", "1..512 (rbtransformer's"]),
        (_set("features", "window", value=1e9), ["key meta.features.window: 1000000000.0 is"]),
        (_set("features", "sfreq", value=1e7), ["key meta.features.sfreq: 10000000.0 is not"]),
        (
            _set("features", "window", value=600.0),  # 76,800 samples: a stream could hold it
            [],
        ),
        (
            _set("features", "bands", value={"alpha": [8, 13]}),
            ["key meta.features.bands: the model takes 4 bands"],
        ),
    ],
)
def test_metadata_that_contradicts_the_model_is_refused_in_one_line(rbt_checkpoint, change, parts):
    if parts:
        refused(rewrite(rbt_checkpoint, change), *parts)
    else:  # within the limits: loads
        assert load_checkpoint(rewrite(rbt_checkpoint, change))[1]["features"]["window"] == 600


def test_raw_windows_must_be_the_models_samples(tmp_path):
    net = models.create("eegnet", n_chans=4, n_outputs=2, n_times=128, sfreq=128.0)
    raw = {**META, "features": {**META["features"], "kind": "raw", "window": 2.0}}
    with pytest.raises(ValueError, match="2-s windows at 128 Hz are 256 samples, the model takes"):
        save_checkpoint(tmp_path / "x.pt", net, raw)
    raw["features"]["window"] = 1.0
    path = save_checkpoint(tmp_path / "x.pt", net, raw)
    assert load_checkpoint(path)[1]["args"]["n_times"] == 128


def test_saving_refuses_metadata_that_loading_would_refuse(tmp_path):
    net = models.create("dgcnn", n_chans=4, n_outputs=2)
    with pytest.raises(ValueError, match="4 names for a model of 4|appears twice"):
        save_checkpoint(tmp_path / "x.pt", net, {**META, "ch_names": ["Cz"] * 4})
    assert not (tmp_path / "x.pt").exists()


def test_more_weights_than_the_limit_are_refused_before_the_model_is_built(checkpoint, monkeypatch):
    from physioemo.training import checkpoint as checkpoint_module

    monkeypatch.setattr(checkpoint_module, "PARAMETER_LIMIT", 100)
    refused(checkpoint, "key state_dict:", "weights, more than the limit of 100")


def test_every_model_at_all_its_size_limits_stays_under_the_parameter_limit():
    """The limits a checkpoint is checked against bound what building its model allocates:
    each torch model with every size option, channel and output count at its highest (on
    torch's meta device: shapes, no memory; for real when its constructor computes with
    values, as HiSTN's graph and the PINN's constants do; HiSTN with the most electrodes it
    can place)."""
    import inspect

    from physioemo.models.registry import MODELS, factory_of
    from physioemo.training.checkpoint import ARG_LIMITS, OPTION_LIMIT, PARAMETER_LIMIT

    for name, spec in MODELS.items():
        if spec.framework != "torch":
            continue
        cls = factory_of(name)
        limits = {**ARG_LIMITS, **cls.SIZE_LIMITS}
        options = {k: high for k, (_, high) in limits.items() if k != "ch_names"}
        for option, parameter in inspect.signature(cls.__init__).parameters.items():
            default = parameter.default
            if option not in options and type(default) is int:
                options[option] = OPTION_LIMIT  # a size the model forgot to declare
        if name == "histn":  # it places every electrode: all 343 10-05 sites in one region
            sites = montage.standard_montage("1005").ch_names
            options.update(n_chans=len(sites), ch_names=sites, regions={"all": sites})
        try:
            with torch.device("meta"):
                net = cls(**options)
        except (RuntimeError, NotImplementedError):  # its constructor computes with values
            net = cls(**options)
        count = sum(p.numel() for p in net.state_dict().values())
        assert count <= PARAMETER_LIMIT, (name, count)


LIMITED = textwrap.dedent(
    """
    import json, resource, sys, time
    import torch
    from physioemo.training import load_checkpoint

    used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    budget = used + 500 * 2**20  # 500 MB beyond what torch and physioemo hold at import
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    started = time.perf_counter()
    try:
        load_checkpoint(sys.argv[1])
        outcome = "loaded"
    except ValueError as error:
        outcome = str(error)
    print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started}))
    """
)


def test_a_checkpoint_asking_for_widths_of_4096_is_refused_within_500_mb(rbt_checkpoint):
    rewrite(rbt_checkpoint, lambda c: c["meta"]["args"].update(depth=4096, dim=4096, hidden=4096))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, str(rbt_checkpoint)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert found["outcome"].startswith(f"{rbt_checkpoint}: key meta.args.dim: 4096"), found
    assert "\n" not in found["outcome"] and "1..512" in found["outcome"]
    assert found["seconds"] < 5

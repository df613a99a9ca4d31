"""load_checkpoint refuses, in one line naming the file and key, what a checkpoint must not
make it do: build a model from out-of-bounds arguments, run NaN weights, unpickle code."""

import math
import os
import tracemalloc

import pytest
import torch

from physioemo import models
from physioemo.cli import main
from physioemo.training import load_checkpoint, save_checkpoint

META = {
    "ch_names": [f"C{i}" for i in range(4)],
    "features": {"kind": "de", "window": 1.0, "stride": 1.0, "bands": None, "sfreq": 128.0},
    "labels": {"dimension": "valence", "kind": "binary", "threshold": 3.0},
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

"""scikit-learn transformers, the feature cache and `physioemo features`."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from physioemo.cli import main
from physioemo.datasets.synthetic import write_dreamer
from physioemo.features import cache as feature_cache
from physioemo.features import differential_entropy
from physioemo.features.transformers import BandPower, DifferentialEntropy, PsdDifferentialEntropy
from physioemo.recording import WindowSet, make_groups


def test_transformers_in_a_pipeline_and_clone_safe():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3, 256)).astype(np.float32)
    X[10:, 0] *= 3  # class 1: more power on channel 0
    y = np.repeat([0, 1], 10)
    de = DifferentialEntropy(sfreq=128, zero_phase=False)
    assert clone(de).get_params() == de.get_params()
    features = de.fit_transform(X)
    assert features.shape == (20, 12)
    np.testing.assert_allclose(
        features, differential_entropy(X, 128, window=2.0, zero_phase=False).reshape(20, -1)
    )
    pipeline = make_pipeline(DifferentialEntropy(sfreq=128), StandardScaler(), LogisticRegression())
    assert pipeline.fit(X, y).score(X, y) == 1.0
    assert BandPower(sfreq=128, log=True).fit_transform(X).shape == (20, 12)
    assert PsdDifferentialEntropy(sfreq=128).fit_transform(X).shape == (20, 12)
    with pytest.raises(ValueError, match="n_epochs"):
        de.transform(X[0])


def small_windows(n=4):
    groups = make_groups(n, "s01", 1, 3, np.arange(n) * 128, np.arange(n) * 128 + 128)
    X = np.arange(n * 6, dtype=np.float32).reshape(n, 3, 2)
    extra = {"t": np.linspace(0, 1, n)}
    return WindowSet(X, groups, {"valence": np.full(n, 4.0)}, {"kind": "de", "window": 1.0}, extra)


def test_cache_entry_round_trip_and_damage_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data.bin"
    data.write_bytes(b"recording")
    calls = []

    def compute():
        calls.append(1)
        return small_windows()

    first, path, hit = feature_cache.cached("toy", data, {"kind": "de"}, compute)
    assert not hit and path.parent == tmp_path / "cache" / "features" and len(calls) == 1
    again, _, hit = feature_cache.cached("toy", data, {"kind": "de"}, compute)
    assert hit and len(calls) == 1
    np.testing.assert_array_equal(again.X, first.X)
    np.testing.assert_array_equal(again.groups, first.groups)
    assert again.info == first.info and set(again.ratings) == {"valence"}
    np.testing.assert_array_equal(again.extra["t"], first.extra["t"])
    # other parameters or other input bytes: another key
    _, other, _ = feature_cache.cached("toy", data, {"kind": "bp"}, compute)
    assert other != path
    data.write_bytes(b"recordinG")
    _, changed, _ = feature_cache.cached("toy", data, {"kind": "de"}, compute)
    assert changed not in (path, other)
    # a damaged entry (flipped byte, truncated file) is rebuilt, not trusted
    for damage in (lambda b: b[:200] + bytes([b[200] ^ 1]) + b[201:], lambda b: b[: len(b) // 2]):
        changed.write_bytes(damage(changed.read_bytes()))
        n_calls = len(calls)
        rebuilt, _, hit = feature_cache.cached("toy", data, {"kind": "de"}, compute)
        assert not hit and len(calls) == n_calls + 1
        assert feature_cache.load(changed) is not None
    assert not list(changed.parent.glob("*.tmp"))  # no temporary file left behind


def test_cli_features_writes_then_reads_the_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path / "cache"))
    root = write_dreamer(tmp_path / "dreamer", subjects=2, seconds=6.0, seed=0)
    args = ["features", "dreamer", "--root", str(root), "--quiet"]
    assert main(args) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(args) == 0
    assert "read" in capsys.readouterr().out
    assert main([*args, "--no-cache"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main([*args, "--kind", "bp"]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "(14, 4)" in out

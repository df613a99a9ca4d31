"""scikit-learn transformers, the feature cache and `physioemo features`."""

import io
import os
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

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
    assert main([*args, "--filter-order", "3"]) == 0  # another recipe parameter: another key
    assert "wrote" in capsys.readouterr().out
    assert main([*args, "--filter-order", "3"]) == 0
    assert "read" in capsys.readouterr().out


# ----------------------------------------------------------------------------- cache faults
def counting(calls):
    def compute():
        calls.append(1)
        return small_windows()

    return compute


def test_a_copied_entry_is_not_served_under_another_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data.bin"
    data.write_bytes(b"recording")
    calls = []
    _, de, _ = feature_cache.cached("toy", data, {"kind": "de"}, counting(calls))
    _, bp, _ = feature_cache.cached("toy", data, {"kind": "bp"}, counting(calls))
    bp.write_bytes(de.read_bytes())  # a valid entry, digest and all, under the wrong name
    _, path, hit = feature_cache.cached("toy", data, {"kind": "bp"}, counting(calls))
    assert not hit and path == bp and len(calls) == 3
    assert feature_cache.load(bp, feature_cache.cache_key([], {})) is None  # key is checked


def test_a_change_that_keeps_size_and_mtime_changes_the_key(tmp_path):
    data = tmp_path / "s01.dat"
    data.write_bytes(b"A" * 100_000)
    before, first = data.stat(), feature_cache.fingerprint(tmp_path)
    time.sleep(0.02)  # file systems with coarse clocks: let the change time move on
    with open(data, "r+b") as f:  # same size, a byte past the first 64 KiB changed
        f.seek(90_000)
        f.write(b"B")
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))  # what cp -p and rsync keep
    assert data.stat().st_size == before.st_size and data.stat().st_mtime_ns == before.st_mtime_ns
    assert feature_cache.fingerprint(tmp_path) != first


def _claiming_entry(path, shape):
    """Rewrite the .npz at `path` so X.npy's header claims `shape` (the data stays as it was)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": shape}
    )
    old = io.BytesIO(members["X.npy"])
    np.lib.format.read_magic(old)
    np.lib.format.read_array_header_1_0(old)
    members["X.npy"] = header.getvalue() + old.read()  # magic, version, header, data
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_an_entry_claiming_100_gb_is_rebuilt_without_allocating(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data.bin"
    data.write_bytes(b"recording")
    calls = []
    _, path, _ = feature_cache.cached("toy", data, {"kind": "de"}, counting(calls))
    _claiming_entry(path, (25_000_000_000,))  # 100 GB of float32
    tracemalloc.start()
    try:
        assert feature_cache.load(path) is None
        windows, again, hit = feature_cache.cached("toy", data, {"kind": "de"}, counting(calls))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not hit and again == path and len(calls) == 2 and peak < 50_000_000
    assert feature_cache.load(path) is not None  # rebuilt in place


def test_an_unwritable_cache_warns_once_and_keeps_the_result(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data.bin"
    data.write_bytes(b"recording")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(feature_cache.tempfile, "mkstemp", refuse)
    calls = []
    with pytest.warns(feature_cache.CacheWarning, match="cannot be written .Permission denied"):
        windows, path, hit = feature_cache.cached("toy", data, {"kind": "de"}, counting(calls))
    assert path is None and not hit and len(calls) == 1
    np.testing.assert_array_equal(windows.X, small_windows().X)


def _read_only(folder):
    """Make `folder` read-only; False when that does not stop this user (root) from writing."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        (folder / "probe").touch()
    except PermissionError:
        return True
    (folder / "probe").unlink()
    return False


def test_cli_features_with_a_read_only_cache(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(cache))
    if not _read_only(cache / "features"):  # root writes anyway: refuse as the OS would

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(feature_cache.tempfile, "mkstemp", refuse)
    root = write_dreamer(tmp_path / "dreamer", subjects=2, seconds=6.0, seed=0)
    try:
        for _ in range(2):  # one warning per run, and the features every time
            assert main(["features", "dreamer", "--root", str(root), "--quiet"]) == 0
            captured = capsys.readouterr()
            assert re.fullmatch(
                r"\d+ windows of de features, X \(14, 4\); not cached\n", captured.out
            )
            assert captured.err.count("\n") == 1
            assert captured.err.startswith("physioemo: warning: feature cache ")
            assert "cannot be written (Permission denied): features not cached" in captured.err
    finally:
        (cache / "features").chmod(0o755)


def test_an_unreadable_unrelated_file_does_not_break_the_fingerprint(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "s01.dat").write_bytes(b"recording")
    secret = tmp_path / "data" / "notes.txt"
    secret.write_text("not yours")
    secret.chmod(0)
    real_open = open

    def no_reading(file, *args, **kwargs):  # as root chmod does not bite: refuse here too
        if Path(str(file)) == secret:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_reading)
    _, path, hit = feature_cache.cached("toy", tmp_path / "data", {}, small_windows)
    assert path is not None and not hit
    assert "notes.txt" in [entry[0] for entry in feature_cache.fingerprint(tmp_path / "data")]


def test_a_killed_writers_temporary_file_is_removed_later(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path / "cache"))
    folder = feature_cache.feature_folder()
    folder.mkdir(parents=True)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead = folder / f"toy-abc.npz.{int(finished.stdout)}.x1.tmp"  # its writer has exited
    mine = folder / f"toy-abc.npz.{os.getpid()}.x2.tmp"  # a writer still running
    old = folder / f"toy-def.npz.{os.getpid()}.x3.tmp"  # running pid, but a day old
    for temporary in (dead, mine, old):
        temporary.write_bytes(b"half an entry")
    day_ago = time.time() - 24 * 3600
    os.utime(old, (day_ago, day_ago))
    data = tmp_path / "data.bin"
    data.write_bytes(b"recording")
    feature_cache.cached("toy", data, {}, small_windows)
    assert sorted(p.name for p in folder.glob("*.tmp")) == [mine.name]


def test_the_fingerprint_is_equal_for_a_copy_and_sees_every_byte(tmp_path):
    import hashlib
    import shutil

    original = tmp_path / "a"
    original.mkdir()
    content = bytes(range(256)) * 8192  # 2 MiB: room between any sampled blocks
    (original / "s01.dat").write_bytes(content)
    expected = [["s01.dat", len(content), hashlib.sha256(content).hexdigest()]]
    assert feature_cache.fingerprint(original) == expected
    copy = tmp_path / "b"
    shutil.copytree(original, copy)
    assert feature_cache.fingerprint(copy) == expected  # no times, inodes or folder names
    # one byte between the 16 blocks of 64 KiB the job keys used to sample
    sampled = np.linspace(0, len(content) - 65536, 16).astype(np.int64)
    offset = int(sampled[7] + 65536 + (sampled[8] - sampled[7] - 65536) // 2)
    assert not any(start <= offset < start + 65536 for start in sampled)
    data = bytearray(content)
    data[offset] ^= 1
    (copy / "s01.dat").write_bytes(bytes(data))
    assert feature_cache.fingerprint(copy) == [
        ["s01.dat", len(content), hashlib.sha256(bytes(data)).hexdigest()]
    ]


def test_hashes_are_remembered_until_the_file_status_changes(tmp_path, monkeypatch):
    import hashlib

    data = tmp_path / "data"
    data.mkdir()
    (data / "s01.dat").write_bytes(b"A" * 100_000)
    (data / "s02.dat").write_bytes(b"B" * 100_000)
    read = []
    real_digest = hashlib.file_digest

    def counting_digest(handle, name):
        read.append(Path(handle.name).name)
        return real_digest(handle, name)

    monkeypatch.setattr(hashlib, "file_digest", counting_digest)
    first = feature_cache.fingerprint(data)
    assert sorted(read) == ["s01.dat", "s02.dat"]
    assert feature_cache.fingerprint(data) == first and len(read) == 2  # remembered
    before = (data / "s01.dat").stat()
    time.sleep(0.02)  # file systems with coarse clocks: let the change time move on
    with open(data / "s01.dat", "r+b") as f:  # same size and (restored) mtime, one byte changed
        f.seek(90_000)
        f.write(b"C")
    os.utime(data / "s01.dat", ns=(before.st_atime_ns, before.st_mtime_ns))
    changed = feature_cache.fingerprint(data)
    assert read[2:] == ["s01.dat"] and changed[1] == first[1] and changed[0] != first[0]
    # a damaged memory of the hashes is ignored, not trusted
    for memo in (feature_cache.cache_dir() / "fingerprints").glob("*.json"):
        memo.write_text('{"s01.dat": [1, 2, 3, 4, 5, "0000"], "s02.dat": "x"}')
    assert feature_cache.fingerprint(data) == changed and len(read) == 5

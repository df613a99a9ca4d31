"""Shared fixtures: small files in the real formats, written once per test session; torch on one
CPU thread (several OpenMP threads contending for two busy cores run many times slower)."""

import numpy as np
import pytest

from physioemo.datasets.synthetic import write_dreamer


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Keep every test's cache (synthetic data, features) out of the user's cache folder."""
    monkeypatch.setenv("PHYSIOEMO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def small_dreamer(tmp_path_factory):
    """Synthetic DREAMER.mat: 4 subjects x 18 clips of about 12 s."""
    return write_dreamer(tmp_path_factory.mktemp("dreamer"), subjects=4, seconds=12.0, seed=3)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


ALPHA0, GAMMA, BETA = 0.8, 0.25, np.array([0.5, 1.5, 0.9])


def _wesad_like_segments(n_segments=36, per_segment=30, seed=0):
    """Arrays shaped like WESAD windows, EDA from the known ODE
    gamma dEDA/dt = -alpha0 EDA + beta_c (piecewise-constant class c per condition segment):
    EDA(t) = E* + (E0 - E*) exp(-alpha0 t / gamma), E* = beta_c / alpha0, t in [0, 1].
    Features: a noisy class signature (3 values) and the segment's starting EDA."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, per_segment)
    x, times, eda, y, segment = [], [], [], [], []
    for s in range(n_segments):
        c = s % 3
        start = rng.uniform(0.2, 2.0)
        target = BETA[c] / ALPHA0
        eda.append(target + (start - target) * np.exp(-ALPHA0 * t / GAMMA))
        signature = np.eye(3)[c] + rng.normal(0, 0.3, 3)
        x.append(np.tile(np.r_[signature, start], (per_segment, 1)))
        times.append(t), y.append(np.full(per_segment, c)), segment.append(np.full(per_segment, s))
    return {
        "x": np.concatenate(x).astype(np.float32),
        "t": np.concatenate(times).astype(np.float32),
        "eda": np.concatenate(eda).astype(np.float32),
        "y": np.concatenate(y),
    }, np.concatenate(segment)


@pytest.fixture
def pinn_task():
    """The PINN's planted task: make(n_segments, per_segment, seed) -> (arrays, segment of
    each row), and the true alpha0, gamma and beta."""
    from types import SimpleNamespace

    return SimpleNamespace(make=_wesad_like_segments, alpha0=ALPHA0, gamma=GAMMA, beta=BETA)

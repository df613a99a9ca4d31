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

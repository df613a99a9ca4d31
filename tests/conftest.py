"""Test settings: torch on one CPU thread (the suite shares small machines; several OpenMP
threads contending for two busy cores run many times slower than one)."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    try:
        import torch
    except ImportError:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

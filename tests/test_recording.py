"""Recording / WindowSet: shapes, units and MNE conversion."""

import numpy as np
import pytest

from physioemo import Recording, WindowSet
from physioemo.recording import make_groups, trial_keys


def test_to_mne_is_in_volts_with_montage(rng):
    data = rng.normal(0, 20, (3, 256))
    rec = Recording(data, 128, ["Fz", "cz", "XYZ"], "s01", trial=2)
    raw = rec.to_mne()
    np.testing.assert_allclose(raw.get_data(), data * 1e-6)
    positions = raw.get_montage().get_positions()["ch_pos"]
    assert np.linalg.norm(positions["Fz"]) > 0 and np.linalg.norm(positions["cz"]) > 0
    assert np.isnan(raw.info["chs"][2]["loc"][:3]).all()  # not a 10-20 name: no position
    back = Recording.from_mne(raw, "s01")
    np.testing.assert_allclose(back.data, data)


def test_rejects_inconsistent_shapes(rng):
    with pytest.raises(ValueError, match=r"n_channels=2"):
        Recording(rng.normal(size=(3, 10)), 128, ["a", "b"], "s01")
    with pytest.raises(ValueError, match="baseline"):
        Recording(rng.normal(size=(2, 10)), 128, ["a", "b"], "s01", baseline=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="unit"):
        Recording(rng.normal(size=(2, 10)), 128, ["a", "b"], "s01", unit="furlong")


def test_windowset_select_and_concatenate(rng):
    parts = [
        WindowSet(
            rng.normal(size=(n, 2, 4)),
            make_groups(n, f"s{i}", 1, i, np.arange(n), np.arange(n) + 1),
            {"valence": np.full(n, float(i))},
        )
        for i, n in enumerate([3, 5])
    ]
    both = WindowSet.concatenate(parts)
    assert len(both) == 8 and both.X.shape == (8, 2, 4)
    assert list(trial_keys(both.groups)[[0, 7]]) == ["s0/1/0", "s1/1/1"]
    picked = both.select(both.ratings["valence"] == 1)
    assert len(picked) == 5 and set(picked.groups["subject"]) == {"s1"}

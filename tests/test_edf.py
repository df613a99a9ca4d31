"""EDF+/BDF+ export (pyedflib) read back through MNE, and windows as MNE epochs."""

import mne
import numpy as np
import pyedflib
import pytest

from physioemo import Recording, extract_windows
from physioemo.io import edf
from physioemo.io.mne import to_epochs
from physioemo.labels import scheme

NAMES = ["Fp1", "Cz", "O2"]


def _recordings(rng, n=3):
    return [
        Recording(
            rng.normal(0, 30, (3, 256 + t)) + [[0.0], [4000.0], [-7.5]],
            128.0,
            NAMES,
            "s01",
            trial=t + 1,
            ratings={"valence": 1.5 + t, "arousal": 9.0},
            baseline=rng.normal(0, 30, (3, 64)),
        )
        for t in range(n)
    ]


@pytest.mark.parametrize("format, bits", [("bdf", 24), ("edf", 16)])
def test_export_reads_back_through_mne_within_quantisation(tmp_path, format, bits):
    recordings = _recordings(np.random.default_rng(0))
    path = edf.export(recordings, tmp_path / f"s01.{format}", format)
    raw = (mne.io.read_raw_bdf if format == "bdf" else mne.io.read_raw_edf)(path, verbose="error")
    assert raw.ch_names == NAMES and raw.info["sfreq"] == 128
    with pyedflib.EdfReader(str(path)) as reader:
        headers = reader.getSignalHeaders()
    concatenated = np.hstack([np.hstack([r.baseline, r.data]) for r in recordings])
    for i, header in enumerate(headers):
        # no sample clipped: the header range holds the channel's range
        assert header["physical_min"] <= concatenated[i].min()
        assert header["physical_max"] >= concatenated[i].max()
        assert header["digital_max"] - header["digital_min"] == 2**bits - 1
        step = (header["physical_max"] - header["physical_min"]) / 2**bits
        got = raw.get_data(picks=[i])[0, : concatenated.shape[1]] * 1e6
        assert np.abs(got - concatenated[i]).max() <= step
    back = edf.read(path, subject="s01")
    assert [r.trial for r in back] == [1, 2, 3]
    for original, copy in zip(recordings, back, strict=True):
        step = 2 * np.ptp(concatenated) / 2**bits
        np.testing.assert_allclose(copy.data, original.data, atol=step)
        np.testing.assert_allclose(copy.baseline, original.baseline, atol=step)
        assert copy.ratings == original.ratings and copy.subject == "s01"


def test_header_bound_fits_eight_characters_and_never_clips():
    for value in (-123.456789123, 0.000123456, 98765.4321, -8388608, 1e-9, 7.0):
        low, high = edf.header_bound(value, up=False), edf.header_bound(value, up=True)
        assert low <= value <= high
        assert len(str(low)) <= 8 and len(str(high)) <= 8
    assert edf.header_bound(-123.456789123, up=False) == -123.457
    assert edf.header_bound(-123.456789123, up=True) == -123.456


def test_file_without_annotations_is_one_recording(tmp_path):
    path = tmp_path / "plain.edf"
    signals = np.random.default_rng(1).normal(0, 10, (2, 512))
    headers = pyedflib.highlevel.make_signal_headers(["C3", "C4"], sample_frequency=128)
    pyedflib.highlevel.write_edf(str(path), signals, headers)
    (recording,) = edf.read(path)
    assert recording.subject == "plain" and recording.data.shape == (2, 512)
    np.testing.assert_allclose(recording.data, signals, atol=400 / 2**16)


def test_export_refuses_mixed_layouts(tmp_path):
    first, second = _recordings(np.random.default_rng(2), n=2)
    second.sfreq = 256.0
    with pytest.raises(ValueError, match="trial 2"):
        edf.export([first, second], tmp_path / "x.bdf")


def test_windows_to_epochs_with_events():
    recordings = _recordings(np.random.default_rng(3))
    windows = extract_windows(recordings, kind="raw", window=1.0, progress=False)
    epochs = to_epochs(windows, scheme("deap", "valence", "ordinal"))
    assert len(epochs) == len(windows) == 6
    np.testing.assert_array_equal(epochs.events[:, 2], [0, 0, 1, 1, 2, 2])  # ratings 1.5-3.5
    assert epochs.event_id == {"valence/1": 0, "valence/2": 1, "valence/3": 2}
    np.testing.assert_allclose(epochs.get_data() * 1e6, windows.X, rtol=1e-6)
    assert epochs.ch_names == NAMES and epochs.info["sfreq"] == 128


def test_export_writes_start_date_and_equipment_from_meta(tmp_path):
    import datetime as dt

    start = dt.datetime(2026, 11, 22, 9, 30, 5)
    data = np.random.default_rng(0).normal(0, 10, (2, 512))
    meta = {"start": start, "equipment": "Synthetic board"}
    recording = Recording(data, 256.0, ["Fz", "Cz"], "live", trial=1, meta=meta)
    path = edf.export([recording], tmp_path / "s.bdf", format="bdf")
    with pyedflib.EdfReader(str(path)) as reader:
        assert reader.getStartdatetime() == start
        assert reader.getEquipment().strip() == "Synthetic board"  # stored as Synthetic_board

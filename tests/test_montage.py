"""The montage module, typed channels in MNE and EDF, and epochs with positions and metadata."""

from __future__ import annotations

import matplotlib
import mne
import numpy as np
import pyedflib
import pytest
from scipy.signal import resample_poly

from physioemo import Recording, extract_windows, montage
from physioemo.datasets import load
from physioemo.datasets.deap import GENEVA_EEG
from physioemo.datasets.seed import SEED_CHANNELS
from physioemo.datasets.synthetic import DREAMER_ELECTRODES, write_deap, write_dreamer
from physioemo.io import edf
from physioemo.io.mne import to_epochs
from physioemo.labels import scheme
from physioemo.live.board import BOARD_NAMES, Board
from physioemo.models.hierarchy import hierarchy_from_montage

matplotlib.use("Agg")
TEMPLATE = montage.standard_montage("1005").get_positions()["ch_pos"]


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    "name, site",
    [
        ("T3", "T7"),
        ("t4", "T8"),
        ("T5", "P7"),
        ("T6", "P8"),
        ("FP1", "Fp1"),
        ("fpz", "Fpz"),
        ("CPZ", "CPz"),
        (" Oz ", "Oz"),
        ("EEG Fp1-REF", "Fp1"),
        ("CB1", "PO9"),
        ("cb2", "PO10"),
        ("EEG1", None),
        ("chest_ECG", None),
    ],
)
def test_canonical_names(name, site):
    assert montage.canonical(name) == site


def test_old_names_sit_where_their_new_names_do():
    where = montage.positions(["T3", "T7", "CB1", "FPZ"])
    np.testing.assert_array_equal(where["T3"], where["T7"])
    np.testing.assert_array_equal(where["T3"], TEMPLATE["T7"])
    np.testing.assert_array_equal(where["CB1"], TEMPLATE["PO9"])
    np.testing.assert_array_equal(where["FPZ"], TEMPLATE["Fpz"])
    with pytest.raises(ValueError, match="no 10-05 position for channel.s. EEG1 X9"):
        montage.positions(["Fz", "EEG1", "X9"])


@pytest.mark.parametrize(
    "names, count",
    [(SEED_CHANNELS, 62), (GENEVA_EEG, 32), (DREAMER_ELECTRODES, 14)],
    ids=["seed", "deap", "dreamer"],
)
def test_dataset_montages_map_to_distinct_positions(names, count):
    where = montage.positions(names)
    assert len(where) == count
    xyz = np.array(list(where.values()))
    distance = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1) + np.eye(count)
    assert distance.min() > 0.01  # no two electrodes on one site
    assert np.all(np.abs(np.linalg.norm(xyz, axis=1) - 0.09) < 0.035)  # on the template head


BOARDS = sorted(set(BOARD_NAMES) - {"playback"})


@pytest.mark.parametrize("board", BOARDS)
def test_every_named_board_maps_to_positions(board):
    names = Board(board).ch_names
    if board == "ganglion":  # BrainFlow names none: the cap's names are given by the lab
        assert montage.unplaced(names) == names == ["EEG1", "EEG2", "EEG3", "EEG4"]
        names = Board(board, ch_names=["O1", "Oz", "O2", "Pz"]).ch_names
    where = montage.positions(names)
    assert len({tuple(v) for v in where.values()}) == len(names)


def test_histn_places_old_temporal_names():
    names = ["T3", "C3", "Cz", "C4", "T4", "Fz", "Pz", "O1", "O2"]
    hierarchy = hierarchy_from_montage(names)
    renamed = hierarchy_from_montage([{"T3": "T7", "T4": "T8"}.get(n, n) for n in names])
    assert hierarchy.sizes == renamed.sizes
    assert (
        "T3" in hierarchy.regions["left-posterior"] and "T4" in hierarchy.regions["right-posterior"]
    )


def test_channel_types_from_names():
    names = ["Fz", "EEG1", "chest_ECG", "chest_EMG", "hEOG", "zEMG", "GSR", "wrist_EDA"]
    names += ["Respiration", "Temperature", "Plethysmograph", "wrist_ACC_X", "T7", "TP10"]
    assert montage.channel_types(names) == [
        "eeg", "eeg", "ecg", "emg", "eog", "emg", "gsr", "gsr",
        "resp", "temperature", "bio", "misc", "eeg", "eeg",
    ]  # fmt: skip


def test_neighbours_and_regions():
    assert montage.neighbours("P7", ["PO7", "Oz", "C3", "Pz"]) == ["PO7", "Oz"]  # 3.0, 8.5 cm
    split = montage.regions(["Fp1", "Fz", "Fp2", "O1", "Oz", "O2"])
    assert split == {
        "left-anterior": ["Fp1"],
        "left-posterior": ["O1"],
        "midline": ["Fz", "Oz"],
        "right-posterior": ["O2"],
        "right-anterior": ["Fp2"],
    }
    assert montage.nearest_edges(["Fz", "Cz", "Pz"], 1) == [("Cz", "Fz"), ("Cz", "Pz")]


# ----------------------------------------------------------------------------- MNE
def test_to_epochs_has_montage_metadata_and_named_events():
    rng = np.random.default_rng(3)
    recordings = [
        Recording(rng.normal(0, 20, (62, 600)), 200.0, SEED_CHANNELS, "s01", 2, t, {"valence": v})
        for t, v in [(1, 2.0), (2, 7.5), (3, 5.0)]
    ]
    windows = extract_windows(recordings, kind="raw", window=1.0, progress=False)
    epochs = to_epochs(windows, scheme("deap", "valence"))
    assert epochs.event_id == {"valence/low": 0, "valence/high": 1}
    assert len(epochs["valence/high"]) == 6 and len(epochs["low"]) == 3
    meta = epochs.metadata
    assert list(meta.columns) == [
        "subject", "session", "trial", "start", "stop", "tmin", "valence", "label", "event",
    ]  # fmt: skip
    assert meta["trial"].tolist() == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert meta["start"].tolist()[:3] == [0, 200, 400] and meta["tmin"].tolist()[:3] == [0, 1, 2]
    assert meta["event"].tolist()[3] == "valence/high" and (meta["session"] == 2).all()
    positions = epochs.get_montage().get_positions()["ch_pos"]
    np.testing.assert_array_equal(positions["CB1"], TEMPLATE["PO9"])
    figure = epochs.average().plot_topomap(times=[0.5], show=False)
    assert figure.axes
    matplotlib.pyplot.close("all")


def test_to_epochs_plain_codes_and_names():
    rng = np.random.default_rng(4)
    rec = Recording(rng.normal(0, 20, (14, 384)), 128.0, DREAMER_ELECTRODES, "s02", trial=1)
    windows = extract_windows([rec], kind="raw", window=1.0, progress=False)
    assert to_epochs(windows, np.array([0, 2, 2])).event_id == {"class/0": 0, "class/2": 2}
    named = to_epochs(windows, np.array([0, 1, 1]), names=["calm", "tense"])
    assert named.event_id == {"calm": 0, "tense": 1}
    assert to_epochs(windows).event_id == {"window": 1}
    with pytest.raises(ValueError, match=r"no event name for label\(s\) \[2\]"):
        to_epochs(windows, np.array([0, 1, 2]), names=["calm", "tense"])


def test_wesad_channels_are_typed_by_name():
    data = np.random.default_rng(5).normal(0, 1, (2, 700))
    rec = Recording(data, 700.0, ["chest_ECG", "chest_EMG"], "S2", unit="mV")
    raw = rec.to_mne()
    assert raw.get_channel_types() == ["ecg", "emg"]
    np.testing.assert_allclose(raw.get_data(), data * 1e-3)


@pytest.fixture(scope="module")
def dreamer(tmp_path_factory):
    root = write_dreamer(tmp_path_factory.mktemp("dreamer"), subjects=1, seconds=4.0, trials=2)
    return load("dreamer", root).subject("s01")


def test_dreamer_ecg_is_kept_in_to_mne(dreamer):
    rec = dreamer[0]
    ecg = rec.extra["ecg"]
    assert ecg.sfreq == 256.0 and rec.sfreq == 128.0
    raw = rec.to_mne()
    assert raw.get_channel_types() == ["eeg"] * 14 + ["ecg", "ecg"]
    assert raw.ch_names[14:] == ecg.ch_names and raw.info["sfreq"] == 128.0
    expected = resample_poly(ecg.data, 1, 2, axis=-1)[:, : rec.n_times] * 1e-6
    np.testing.assert_allclose(raw.get_data(picks="ecg"), expected, rtol=1e-12, atol=1e-15)
    rest = rec.to_mne(baseline=True)
    expected = resample_poly(rec.extra["ecg_baseline"].data, 1, 2, axis=-1) * 1e-6
    np.testing.assert_allclose(rest.get_data(picks="ecg"), expected[:, : rest.n_times], atol=1e-15)
    assert rec.to_mne(extra=False).get_channel_types() == ["eeg"] * 14
    back = Recording.from_mne(raw, "s01")
    assert back.extra["ecg"].unit == "uV" and back.extra["ecg"].sfreq == 128.0
    np.testing.assert_allclose(back.extra["ecg"].data, raw.get_data(picks="ecg") * 1e6)


def test_dreamer_export_keeps_ecg_at_its_own_rate(dreamer, tmp_path):
    path = edf.export(dreamer, tmp_path / "s01.bdf")
    with pyedflib.EdfReader(str(path)) as reader:
        labels = reader.getSignalLabels()
        rates = [reader.getSampleFrequency(i) for i in range(len(labels))]
        ecg = np.concatenate(
            [np.hstack([r.extra["ecg_baseline"].data, r.extra["ecg"].data]) for r in dreamer],
            axis=1,
        )
        written = reader.readSignal(14)[: ecg.shape[1]]
    assert labels == DREAMER_ELECTRODES + ["ECG ECG1", "ECG ECG2"]
    assert rates == [128.0] * 14 + [256.0, 256.0]
    np.testing.assert_allclose(written, ecg[0], atol=np.ptp(ecg[0]) / 2**23)
    raw = mne.io.read_raw_bdf(path, infer_types=True, verbose="error")
    assert raw.get_channel_types()[-2:] == ["ecg", "ecg"] and raw.ch_names[-2:] == ["ECG1", "ECG2"]
    back = edf.read(path, subject="s01")  # the EEG alone, at its own rate
    assert [r.sfreq for r in back] == [128.0, 128.0] and back[0].ch_names == DREAMER_ELECTRODES
    step = 2 * np.ptp(np.hstack([r.data for r in dreamer])) / 2**24
    np.testing.assert_allclose(back[1].data, dreamer[1].data, atol=step)
    np.testing.assert_allclose(back[1].baseline, dreamer[1].baseline, atol=step)


def test_deap_peripheral_channels_in_to_mne_and_export(tmp_path):
    root = write_deap(tmp_path, subjects=1, seconds=3.0, trials=2)
    rec = load("deap", root).subject("s01")[0]
    raw = rec.to_mne()
    types = dict(zip(raw.ch_names, raw.get_channel_types(), strict=True))
    assert [types[n] for n in GENEVA_EEG] == ["eeg"] * 32
    assert {n: types[n] for n in ("hEOG", "zEMG", "GSR", "Respiration", "Temperature")} == {
        "hEOG": "eog",
        "zEMG": "emg",
        "GSR": "gsr",
        "Respiration": "resp",
        "Temperature": "temperature",
    }
    assert types["Plethysmograph"] == "bio" and len(raw.ch_names) == 40
    np.testing.assert_array_equal(raw.get_data(picks=["GSR"])[0], rec.extra["gsr"].data[0])
    with pytest.warns(UserWarning, match="'BIO Plethysmograph' cut to 'BIO Plethysmogra'"):
        path = edf.export([rec], tmp_path / "s01.bdf")
    typed = mne.io.read_raw_bdf(path, infer_types=True, verbose="error")
    assert typed.get_channel_types().count("eeg") == 32
    assert set(typed.get_channel_types()[32:]) == {"eog", "emg", "bio", "resp", "temperature"}
    assert len(edf.read(path)[0].ch_names) == 32

"""WESAD: loader on hand-written subject folders, label schemes, synthetic physiology."""

import json
import math
import pickle

import numpy as np
import pytest
from scipy.signal import find_peaks, welch

from physioemo import DatasetFormatError
from physioemo.cli import main
from physioemo.datasets import load
from physioemo.datasets import wesad as wesad_module
from physioemo.datasets.synthetic import write_wesad
from physioemo.labels import categorical

# ----------------------------------------------------------------------------- hand-written subject
RATE = 700
WRIST = {"ACC": 32, "BVP": 64, "EDA": 4, "TEMP": 4}
# (label code, seconds): transitions 0, a reading period 6, two meditations
TIMELINE = [(0, 1), (1, 4), (0, 1), (2, 3), (6, 1), (4, 2), (0, 1), (3, 2), (0, 1), (4, 2), (0, 2)]
SECONDS = sum(s for _, s in TIMELINE)
PANAS = ";".join(["2"] * 23 + ["Nan"])  # 24 items, the last left out
PANAS_TSST = ";".join(["4"] * 26)  # 26 items: Angry and Irritated as well
QUEST = f"""# Subj;S5;;;
# ORDER;Base;TSST;Medi 1;Fun;Medi 2;sRead;;
# START;0.01;0.06;0.10;0.13;0.16;0.09;;
# END;0.05;0.09;0.12;0.15;0.18;0.10;;
;;;;
# PANAS;{PANAS};;
# PANAS;{PANAS_TSST};;
# PANAS;{PANAS};;
# PANAS;{PANAS};;
# PANAS;{PANAS};;
;;;;
# STAI;1;2;3;4;1;2;;
# STAI;1;4;4;1;4;1;;
# STAI;4;1;1;4;1;4;;
# STAI;3;2;2;3;2;3;;
# STAI;4;1;1;4;1;3;;
;;;;
# DIM;5;2;;
# DIM;3;Nan;;
# DIM;6;1;;
# DIM;8;6;;
# DIM;7;2;;
;;;;
# SSSQ;1;2;3;4;5;Nan;;
"""
README = """### Personal information ###
Age: 27
Height (cm): 181
Weight (kg): 78
Gender: female
Dominant hand: right

### Study pre-requisites ###
Did you drink coffee today? NO

### Additional notes ###
"""


def hand_content():
    n = SECONDS * RATE
    t = np.arange(n) / RATE
    chest = {
        "ACC": np.stack([t, -t, 2 * t], axis=1),
        "ECG": t[:, None].copy(),
        "EMG": (-t)[:, None].copy(),
        "EDA": (5 + t)[:, None].copy(),
        "Temp": (33 + t[:, None]).astype(np.float32),
        "Resp": (10 * t)[:, None].copy(),
    }
    wrist = {
        key: np.arange(SECONDS * rate, dtype=float)[:, None] / rate for key, rate in WRIST.items()
    }
    wrist["ACC"] = np.repeat(wrist["ACC"], 3, axis=1)
    label = np.concatenate([np.full(s * RATE, code, dtype=np.int32) for code, s in TIMELINE])
    return {"signal": {"chest": chest, "wrist": wrist}, "label": label, "subject": "S5"}


def write_hand_subject(root, name="S5", content=None, quest=QUEST):
    folder = root / name
    folder.mkdir(parents=True)
    with (folder / f"{name}.pkl").open("wb") as file:
        pickle.dump(content or hand_content(), file, protocol=2)
    (folder / f"{name}_quest.csv").write_text(quest)
    (folder / f"{name}_readme.txt").write_text(README)
    return root


def test_reads_hand_written_subject(tmp_path):
    ds = load("wesad", write_hand_subject(tmp_path))
    assert ds.subjects == ["S5"] and ds.sfreq == 700 and ds.ch_names == ["chest_ECG", "chest_EMG"]
    recordings = ds.subject("S5")
    conditions = [r.meta["condition"] for r in recordings]
    assert conditions == ["baseline", "stress", "meditation", "amusement", "meditation"]
    assert [r.ratings["condition"] for r in recordings] == [1, 2, 4, 3, 4]
    assert [r.meta["quest_name"] for r in recordings] == ["Base", "TSST", "Medi 1", "Fun", "Medi 2"]
    stress = recordings[1]
    assert stress.meta["start_seconds"] == 6.0 and stress.duration == 3.0
    np.testing.assert_allclose(stress.data[0], np.arange(6 * RATE, 9 * RATE) / RATE)
    np.testing.assert_allclose(stress.data[1], -np.arange(6 * RATE, 9 * RATE) / RATE)
    assert stress.unit == "mV"
    for key, rate in WRIST.items():
        signal = stress.extra[f"wrist_{key.lower()}"]
        assert signal.sfreq == rate and signal.data.shape[1] == 3 * rate
        np.testing.assert_allclose(signal.data[0], np.arange(6 * rate, 9 * rate) / rate)
    assert stress.extra["chest_temp"].ch_names == ["chest_TEMP"]
    assert stress.extra["chest_acc"].ch_names == ["chest_ACC_X", "chest_ACC_Y", "chest_ACC_Z"]
    np.testing.assert_allclose(stress.extra["chest_resp"].data[0, 0], 60.0)
    # self-reports of the condition, Nan answers as NaN
    assert stress.ratings["valence"] == 3 and math.isnan(stress.ratings["arousal"])
    assert recordings[3].ratings == {"condition": 3, "valence": 8.0, "arousal": 6.0}
    assert stress.meta["panas"]["Angry"] == 4 and len(stress.meta["panas"]) == 26
    assert (
        math.isnan(recordings[0].meta["panas"]["Sad"])
        and "Angry" not in recordings[0].meta["panas"]
    )
    assert stress.meta["stai"]["I feel nervous"] == 4
    assert stress.meta["sssq"][:5] == [1, 2, 3, 4, 5] and math.isnan(stress.meta["sssq"][5])
    assert recordings[0].meta["sssq"] is None
    assert stress.meta["quest_start"] == "0.06" and stress.meta["gender"] == "female"
    assert stress.meta["age"] == "27" and stress.meta["readme"]["Height (cm)"] == "181"


def test_info_json(tmp_path, capsys):
    root = write_hand_subject(tmp_path)
    write_hand_subject(root, "S10", quest=QUEST.replace("S5", "S10"))
    assert main(["info", "wesad", "--root", str(root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_subjects"] == 2 and info["n_recordings"] == 10
    assert info["labels"]["condition"] == {
        "baseline": 2,
        "stress": 2,
        "amusement": 2,
        "meditation": 4,
    }
    assert info["sfreq"]["chest_ecg"] == 700 and info["sfreq"]["wrist_bvp"] == 64
    assert info["sfreq"]["wrist_eda"] == 4 and info["sfreq"]["wrist_acc"] == 32
    assert info["n_channels"] == 14 and info["total_seconds"] == 2 * 13


def test_each_pickle_read_once(tmp_path, monkeypatch):
    root = write_hand_subject(tmp_path)
    write_hand_subject(root, "S10")
    reads = []
    original = wesad_module.safe_load

    def counting(path, what):
        reads.append(path.name)
        return original(path, what)

    monkeypatch.setattr(wesad_module, "safe_load", counting)
    ds = load("wesad", root)
    assert reads == [] and ds.subjects == ["S5", "S10"]
    ds.info()
    assert reads == ["S5.pkl", "S10.pkl"]


def damaged(change):
    content = hand_content()
    change(content)
    return content


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["signal"]["chest"].pop("Resp"), r"key signal\.chest\.Resp is missing"),
        (lambda c: c.pop("label"), r"key label is missing"),
        (
            lambda c: c["signal"]["chest"].update(ACC=np.zeros((SECONDS * RATE, 2))),
            r"key signal\.chest\.ACC has shape \(14000, 2\), expected \(samples, 3\)",
        ),
        (
            lambda c: c["signal"]["chest"]["EDA"].fill(np.nan),
            r"key signal\.chest\.EDA holds NaN .*column\(s\) \[0\]",
        ),
        (
            lambda c: c["signal"]["wrist"].update(BVP=np.zeros((100, 1))),
            r"key signal\.wrist\.BVP has 100 samples",
        ),
        (
            lambda c: c["signal"]["chest"].update(ECG=np.zeros((5, 1))),
            r"key signal\.chest\.ECG has 5 samples",
        ),
        (lambda c: c["label"].__setitem__(0, 9), r"key label holds values outside"),
        (lambda c: c["signal"].update(wrist=[1, 2]), r"key signal\.wrist is a list"),
    ],
)
def test_damaged_pickle(tmp_path, change, message):
    root = write_hand_subject(tmp_path, content=damaged(change))
    with pytest.raises(DatasetFormatError, match=r"S5\.pkl: " + message):
        load("wesad", root).subject("S5")


def test_truncated_pickle_and_missing_files(tmp_path):
    root = write_hand_subject(tmp_path)
    pkl = root / "S5" / "S5.pkl"
    pkl.write_bytes(pkl.read_bytes()[:5000])
    with pytest.raises(DatasetFormatError, match=r"S5\.pkl: not a readable .*truncated"):
        load("wesad", root).subject("S5")
    pkl.unlink()
    with pytest.raises(FileNotFoundError, match=r"S5\.pkl.*WESAD SX\.pkl"):
        load("wesad", root).subject("S5")
    with pytest.raises(FileNotFoundError, match="no subject folders"):
        load("wesad", root / "S5")


def test_missing_quest(tmp_path):
    root = write_hand_subject(tmp_path)
    (root / "S5" / "S5_quest.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"S5_quest\.csv.*SX_quest\.csv"):
        load("wesad", root).subject("S5")


@pytest.mark.parametrize(
    ("quest", "message"),
    [
        (QUEST.replace(f"# PANAS;{PANAS_TSST};;\n", ""), r"key # PANAS has 4 rows, expected 5"),
        (QUEST.replace("# DIM;6;1;;", "# DIM;6;1;3;;"), r"key # DIM row has 3 answers"),
        (QUEST.replace("# STAI;3;2;2;3;2;3", "# STAI;3;x;2;3;2;3"), r"# STAI row holds a non"),
        (QUEST.replace("# ORDER;Base;TSST", "# ORDER;Base;Fun"), r"S5\.pkl: key label: .*ORDER"),
        (QUEST.replace("# START;", "# BEGIN;"), r"key # START appears 0 times"),
    ],
)
def test_damaged_quest(tmp_path, quest, message):
    root = write_hand_subject(tmp_path, quest=quest)
    with pytest.raises(DatasetFormatError, match=message):
        load("wesad", root).subject("S5")


def test_label_schemes():
    ratings = {"condition": np.array([1.0, 2.0, 3.0, 4.0, 2.0])}
    three, binary, four = (categorical("wesad", name) for name in ("3-class", "binary", "4-class"))
    keep = three.keep(ratings)
    np.testing.assert_array_equal(keep, [True, True, True, False, True])
    assert binary.keep(ratings).tolist() == keep.tolist()
    kept = {"condition": ratings["condition"][keep]}
    np.testing.assert_array_equal(three(kept), [0, 1, 2, 1])
    np.testing.assert_array_equal(binary(kept), [0, 1, 0, 1])
    np.testing.assert_array_equal(four(ratings), [0, 1, 2, 3, 1])
    assert binary.class_names == ("non-stress", "stress")
    with pytest.raises(ValueError, match=r"codes \[4.0\] belong to no class"):
        three(ratings)


# ----------------------------------------------------------------------------- synthetic writer
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = write_wesad(tmp_path_factory.mktemp("wesad"), subjects=2, seconds=60.0, seed=4)
    return root, load("wesad", root)


def test_synthetic_layout_and_info(synthetic, capsys):
    root, ds = synthetic
    assert ds.subjects == ["S2", "S3"]
    assert main(["info", "wesad", "--root", str(root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_recordings"] == 10
    assert info["labels"]["condition"] == {
        "baseline": 2,
        "stress": 2,
        "amusement": 2,
        "meditation": 4,
    }
    orders = [[r.meta["quest_name"] for r in ds.subject(s)] for s in ds.subjects]
    assert orders == [
        ["Base", "TSST", "Medi 1", "Fun", "Medi 2"],
        ["Base", "Fun", "Medi 1", "TSST", "Medi 2"],
    ]


def heart_rate(recording, last_seconds):
    ecg = recording.data[0, -int(last_seconds * 700) :]
    peaks, _ = find_peaks(ecg, height=0.5, distance=int(0.3 * 700))
    return 60 * 700 / np.median(np.diff(peaks))


def breaths_per_minute(recording):
    frequencies, power = welch(recording.extra["chest_resp"].data[0], 700, nperseg=700 * 30)
    return 60 * frequencies[np.argmax(power)]


def test_synthetic_physiology_responds_to_stress(synthetic):
    _, ds = synthetic
    for _, recordings in ds.iter_subjects():
        by = {r.meta["condition"]: r for r in recordings}
        base, stress, fun = by["baseline"], by["stress"], by["amusement"]
        medi = [r for r in recordings if r.meta["condition"] == "meditation"][0]
        # heart rate up under stress (measured from R peaks of the last 20 s)
        assert heart_rate(stress, 20) > heart_rate(base, 20) + 8
        assert heart_rate(fun, 20) > heart_rate(base, 20)
        # tonic skin conductance climbs during stress (tau 30 s), above the resting level
        eda = stress.extra["chest_eda"].data[0]
        assert eda[-700 * 5 :].mean() > base.extra["chest_eda"].data[0].mean() + 0.8
        assert eda[-700 * 5 :].mean() > eda[: 700 * 5].mean() + 0.8
        # faster breathing under stress, slow breathing in meditation
        assert breaths_per_minute(stress) > breaths_per_minute(base) + 3
        assert breaths_per_minute(medi) < breaths_per_minute(base) - 3
        # wrist skin temperature drifts down during stress (slowly)
        temp = stress.extra["wrist_temp"].data[0]
        assert temp[-20:].mean() < temp[:20].mean() - 0.15
        assert len(stress.meta["sssq"]) == 6 and 1 <= stress.ratings["arousal"] <= 9

"""What the loaders refuse and what they warn about (docs/refusals.md), one case each:
each refusal is one line naming the file and the field, key or channel; each warning names the
file, the channels and the trials, and the data still loads."""

import pickle
import warnings
from dataclasses import replace

import numpy as np
import pytest
from test_deap import _content, _write_csv, _write_python
from test_dreamer import write_by_hand
from test_seed import write_hand_seed
from test_wesad import QUEST, hand_content, write_hand_subject

from physioemo import DatasetFormatError, WindowSet, extract_windows
from physioemo.cli import main
from physioemo.datasets import CARDS, _checks, load
from physioemo.errors import DataQualityWarning
from physioemo.recording import Recording


def refused(call, *parts):
    """Run `call`, expecting a one-line DatasetFormatError holding every part."""
    with pytest.raises(DatasetFormatError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message and "\x1b" not in message, message
    for part in parts:
        assert part in message, message
    return message


def warned(call, *parts):
    """Run `call`, expecting exactly one DataQualityWarning holding every part; its result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    quality = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert len(quality) == 1, quality
    for part in parts:
        assert part in quality[0], quality[0]
    return result


def dreamer(tmp_path, mutate):
    path, _ = write_by_hand(tmp_path, mutate=mutate)
    return path


def eeg(top, subject, trial):
    """DREAMER's (samples, 14) EEG array of a subject's clip, to change in place."""
    return top["Data"][0, subject]["EEG"]["stimuli"][trial, 0]


# ----------------------------------------------------------------------------- channels (warn)
def test_flat_railed_and_duplicated_channels_are_warned_about(tmp_path):
    def spoil(top):
        eeg(top, 0, 0)[:, 3] = 4200.0  # FC5 dead
        clip = eeg(top, 0, 1)
        clip[:, 6] = np.clip(clip[:, 6], None, np.percentile(clip[:, 6], 80))  # O1 clipped
        eeg(top, 0, 2)[:, 9] = eeg(top, 0, 2)[:, 8]  # T8 a copy of P8

    path = dreamer(tmp_path, spoil)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recordings = load("dreamer", path).subject("s01")
    messages = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    where = f"{path}, subject s01: "
    assert messages == [
        where + "flat channel(s): FC5 (trial 1)",
        where + "railed channel(s): O1 (trial 2)",
        where + "duplicated channel(s): T8 (= P8) (trial 3)",
    ]
    assert len(recordings) == 3 and np.all(recordings[0].data[3] == 4200.0)  # loaded as read


def test_deap_flat_channel_in_every_trial(tmp_path):
    data, labels = _content(np.random.default_rng(0))
    data[:, 0] = 0.0  # Fp1 dead in all trials
    _write_python(tmp_path, 1, data, labels)
    path = tmp_path / "data_preprocessed_python" / "s01.dat"
    warned(
        lambda: load("deap", tmp_path).subject("s01"),
        f"{path}: flat channel(s): Fp1 (all 3 trials)",
    )


def test_wesad_flat_ecg_is_warned_about(tmp_path):
    content = hand_content()
    content["signal"]["chest"]["ECG"][:] = 0.0
    root = write_hand_subject(tmp_path, content=content)
    warned(lambda: load("wesad", root).subject("S5"), "S5.pkl: flat channel(s): chest_ECG")


def test_seed_duplicated_channel_is_warned_about(tmp_path):
    def copy(subject, date, variables):
        if subject == "2" and date == "20140404":
            variables["jl_eeg4"][7] = variables["jl_eeg4"][6]

    root = write_hand_seed(tmp_path, copy)
    warned(
        lambda: load("seed", root).subject("2"),
        "2_20140404.mat: duplicated channel(s): F3 (= F5) (trial 4)",
    )


# ----------------------------------------------------------------------------- refused
@pytest.mark.parametrize(
    ("scores", "parts"),
    [
        ([1, 7, 5], ("DREAMER.Data{1}.ScoreValence", "ratings span 1..7, outside 1..5")),
        ([1, 2.5, 5], ("DREAMER.Data{1}.ScoreValence", "whole points of 1..5, got 2.5")),
        ([1, np.nan, 5], ("DREAMER.Data{1}.ScoreValence", "rating(s) 2 are missing (NaN)")),
    ],
)
def test_dreamer_ratings_off_the_scale(tmp_path, scores, parts):
    def rate(top):
        top["Data"][0, 0]["ScoreValence"] = np.array(scores, float).reshape(-1, 1)

    path = dreamer(tmp_path, rate)
    refused(lambda: load("dreamer", path).subject("s01"), str(path), *parts)


def test_dreamer_complex_eeg_and_nan_rate_and_names(tmp_path):
    def imaginary(top):
        top["Data"][0, 0]["EEG"]["stimuli"][0, 0] = eeg(top, 0, 0) + 1j

    path = dreamer(tmp_path, imaginary)
    refused(lambda: load("dreamer", path).subject("s01"), "EEG.stimuli{1}", "complex values")

    def nan_rate(top):
        top["EEG_SamplingRate"] = np.nan

    refused(
        lambda: load("dreamer", dreamer(tmp_path, nan_rate)),
        "EEG_SamplingRate",
        "sampling rate nan",
    )

    def all_af3(top):
        top["EEG_Electrodes"][0, :] = ["AF3"] * 14

    refused(
        lambda: load("dreamer", dreamer(tmp_path, all_af3)),
        "EEG_Electrodes",
        "distinct (repeated: AF3)",
    )


def test_dreamer_empty_and_overlong_trials(tmp_path, monkeypatch):
    def empty(top):
        top["Data"][0, 1]["EEG"]["stimuli"][2, 0] = np.zeros((0, 14))

    path = dreamer(tmp_path, empty)
    refused(
        lambda: load("dreamer", path).subject("s02"), "DREAMER.Data{2}.EEG.stimuli{3}", "no samples"
    )
    # a field longer than any recording (here: the bound lowered to 3 s; clips are 1.6-3.2 s)
    path = dreamer(tmp_path, None)
    monkeypatch.setattr(_checks, "MAX_SECONDS", 3.0)
    refused(
        lambda: load("dreamer", path).subject("s01"),
        "DREAMER.Data{1}.ECG.stimuli{3}",  # ECG, read first: 820 samples at 256 Hz
        "820 samples at 256 Hz (3 s), longer than any recording (3 s)",
    )
    monkeypatch.undo()
    # the real bound: a trial inflating to gigabytes is refused by its claim
    refused(
        lambda: _checks.length(10**9 // 14, 128.0, "DREAMER.mat: field x"),
        "(558,036 s), longer than any recording (21,600 s)",
    )


def test_deap_two_files_of_one_subject(tmp_path):
    data, labels = _content(np.random.default_rng(1))
    _write_python(tmp_path, 1, data, labels)
    (tmp_path / "data_preprocessed_python" / "s1.dat").write_bytes(b"")
    refused(lambda: load("deap", tmp_path), "s01.dat, s1.dat are all subject 1")


def test_deap_complex_data_and_sanitised_keys(tmp_path):
    data, labels = _content(np.random.default_rng(2))
    folder = tmp_path / "data_preprocessed_python"
    folder.mkdir()
    (folder / "s01.dat").write_bytes(pickle.dumps({"data": data + 1j, "labels": labels}, 2))
    refused(lambda: load("deap", tmp_path).subject("s01"), "key 'data' holds complex values")
    hostile = {"\x1b[31mred\x1b[0m\nline": 1, "k" * 20_000_000: 2, "data": data}
    (folder / "s01.dat").write_bytes(pickle.dumps(hostile, 2))
    message = refused(
        lambda: load("deap", tmp_path).subject("s01"),
        "key 'labels' is missing (keys: red line, kkk",
    )
    assert "... (20,000,000 characters)" in message and len(message) < 500


def test_deap_ratings_csv_binary_or_nan(tmp_path):
    _write_python(tmp_path, 1, *_content(np.random.default_rng(3)))
    _write_csv(tmp_path, [[1, 1, 1, 0, "nan", 5, 5, 5, 1]])
    csv = tmp_path / "metadata_csv" / "participant_ratings.csv"
    refused(
        lambda: load("deap", tmp_path), f"{csv}: line 2, column Valence: rating(s) 1 are missing"
    )
    csv.write_bytes(bytes(range(256)) * 4)
    refused(lambda: load("deap", tmp_path), f"{csv}: not a text CSV file (UnicodeDecodeError")


def test_seed_empty_and_complex_trials(tmp_path):
    def empty(subject, date, variables):
        variables["jl_eeg3"] = np.zeros((62, 0))

    root = write_hand_seed(tmp_path / "a", empty)
    refused(lambda: load("seed", root).subject("2"), "field jl_eeg3", "holds no samples")

    def imaginary(subject, date, variables):
        if subject == "10":
            variables["ww_eeg1"] = variables["ww_eeg1"] * 1j

    root = write_hand_seed(tmp_path / "b", imaginary)
    refused(lambda: load("seed", root).subject("10"), "field ww_eeg1 holds complex values")


def test_wesad_complex_stream_and_sam_off_scale(tmp_path):
    content = hand_content()
    content["signal"]["wrist"]["BVP"] = content["signal"]["wrist"]["BVP"] + 2j
    root = write_hand_subject(tmp_path / "a", content=content)
    refused(lambda: load("wesad", root).subject("S5"), "key signal.wrist.BVP holds complex values")
    root = write_hand_subject(tmp_path / "b", quest=QUEST.replace("# DIM;8;6", "# DIM;18;6"))
    refused(
        lambda: load("wesad", root).subject("S5"), "S5_quest.csv: key # DIM of Fun", "outside 1..9"
    )


# ----------------------------------------------------------------------------- short trials
def recording(trial, n, sfreq=128.0):
    data = np.random.default_rng(trial).normal(size=(2, n))
    meta = {"file": "7_20150922.mat"}
    return Recording(data, sfreq, ["C3", "C4"], "s01", trial=trial, ratings={"v": 1}, meta=meta)


def test_a_trial_shorter_than_the_window_is_skipped_and_named():
    recordings = [recording(1, 512), recording(2, 100), recording(3, 256)]
    windows = warned(
        lambda: extract_windows(recordings, window=2.0, progress=False),
        "de: skipped 1 trial(s) shorter than a window: subject s01 session 1 trial 2 "
        "(7_20150922.mat): window of 2.0 s (256 samples) is longer than the signal (100 samples)",
    )
    assert isinstance(windows, WindowSet) and set(windows.groups["trial"]) == {1, 3}
    with pytest.raises(
        ValueError, match=r"every trial is shorter than one window, e.g. subject s01 trial 2"
    ):
        extract_windows(recordings[1:2], window=2.0, progress=False)


def test_a_baseline_shorter_than_half_a_window_is_skipped_with_a_warning(tmp_path):
    def short_baseline(top):
        baselines = top["Data"][0, 0]["EEG"]["baseline"]
        baselines[1, 0] = baselines[1, 0][:50]  # 0.39 s at 128 Hz

    dataset = load("dreamer", dreamer(tmp_path, short_baseline))
    windows = warned(
        lambda: extract_windows(dataset, baseline="auto", progress=False),  # bench's default
        "de: skipped 1 trial(s) shorter than a window: subject s01 session 1 trial 2: its "
        "baseline of 50 samples (0.39 s) is shorter than half a 1-s window",
    )
    kept = set(zip(windows.groups["subject"], windows.groups["trial"], strict=True))
    assert ("s01", 2) not in kept and ("s01", 1) in kept and ("s02", 2) in kept
    # at least half a window (DEAP's 3 s against 4-s windows): one window spanning it, silent
    half = [replace(r, baseline=r.baseline[:, :64]) for r in dataset.subject("s02")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        found = extract_windows(half, baseline="auto", progress=False)
    assert len(found) == len(extract_windows(dataset.subject("s02"), progress=False))


def test_nan_or_infinite_samples_reaching_a_recipe_are_refused_naming_where():
    x = np.random.default_rng(0).normal(size=(2, 1280))
    rest = np.random.default_rng(1).normal(size=(2, 640))
    rest[1, 10] = np.inf
    with_bad_baseline = Recording(x, 128.0, ["C3", "C4"], "s01", trial=4, ratings={"v": 1})
    with_bad_baseline = replace(with_bad_baseline, baseline=rest)
    bad_signal = replace(with_bad_baseline, data=np.where(x > 3, np.nan, x), baseline=None)
    for kind in ("de", "raw", "rbtransformer-bde"):  # raw windows took them silently
        with pytest.raises(ValueError) as error:
            extract_windows([with_bad_baseline], kind=kind, baseline="auto", progress=False)
        assert str(error.value) == (
            f"{kind} windows of subject s01 session 1 trial 4: its baseline holds 1 NaN or "
            "infinite sample(s), the first in channel C4 at sample 10"
        )
        with pytest.raises(ValueError, match="its signal holds .* NaN or infinite sample"):
            extract_windows([bad_signal], kind=kind, progress=False)


def test_a_window_shorter_than_one_cycle_of_the_lowest_band_is_refused():
    # one sample per window gave DE of a zero variance (-33.1) for every window, silently
    trial = recording(1, 1280)
    with pytest.raises(ValueError) as error:
        extract_windows([trial], window=1 / 128, progress=False)
    assert str(error.value) == (
        "de windows of subject s01 session 1 trial 1: a window of 1 samples is shorter than one "
        "cycle of the lowest band edge (4 Hz: 32 samples at 128 Hz); its variance would not "
        "measure the band; lengthen the window"
    )
    assert len(extract_windows([trial], window=0.25, progress=False)) == 40  # one 4-Hz cycle


def test_recordings_that_give_no_window_are_named(tmp_path, capsys):
    # WESAD's peripheral windows are 60 s: conditions of 12-40 s give none
    argv = ["bench", "--dataset", "wesad", "--synthetic-subjects", "2"]
    argv += ["--synthetic-seconds", "20", "--out", str(tmp_path / "run"), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs at least 2 subjects" not in err
    assert err.startswith(
        "physioemo: error: peripheral: every trial is shorter than one window, e.g. subject S2 "
        "trial 1: no 60-s window fits in its "
    )


def test_an_unreadable_file_names_the_permission(tmp_path, monkeypatch, capsys):
    path = dreamer(tmp_path, None)
    real_open = open

    def refusing(file, *args, **kwargs):  # chmod 0 does not stop root: refuse here too
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    path.chmod(0)
    monkeypatch.setattr("builtins.open", refusing)
    try:
        assert main(["info", "dreamer", "--root", str(path)]) == 2
    finally:
        path.chmod(0o644)
    assert capsys.readouterr().err == f"physioemo: error: {path}: Permission denied\n"


def test_an_empty_wesad_label_says_so(tmp_path):
    content = hand_content()
    content["label"] = np.zeros(0, dtype=np.int32)
    root = write_hand_subject(tmp_path, content=content)
    refused(lambda: load("wesad", root).subject("S5"), "S5.pkl: key label is empty")


def test_a_garbage_playback_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "recording.csv"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    argv = ["live", "--board", "playback", "--file", str(path), "--master-board", "synthetic"]
    with pytest.raises(SystemExit) as ended:  # live's own errors end it this way
        main([*argv, "--duration", "1", "--quiet"])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"physioemo: error: {path}: line 1 is not a BrainFlow sample")
    assert err.count("\n") == 1 and "UnicodeDecodeError" not in err


# ----------------------------------------------------------------------------- smaller
def test_deap_root_may_be_the_folder_of_the_files(tmp_path):
    data, labels = _content(np.random.default_rng(4))
    _write_python(tmp_path, 1, data, labels)
    _write_csv(tmp_path, [[1, t, t, 0, 5, 5, 5, 5, 1] for t in (1, 2, 3)])
    inner = load("deap", tmp_path / "data_preprocessed_python")  # as TorchEEG takes it
    assert inner.subjects == ["s01"] and inner.source == tmp_path
    assert inner.subject("s01")[0].meta["presentation_trial"] == 1  # the CSV beside it is read


def test_info_bins_continuous_ratings(tmp_path, capsys):
    import json

    rng = np.random.default_rng(5)
    data, labels = _content(rng, trials=20)
    labels[0], labels[1] = 9.0, 1.0
    _write_python(tmp_path, 1, data, labels)
    assert main(["info", "deap", "--root", str(tmp_path), "--json"]) == 0
    valence = json.loads(capsys.readouterr().out)["labels"]["valence"]
    expected = np.bincount(np.minimum(np.floor(labels[:, 0]).astype(int), 8) - 1, minlength=8)
    assert valence == {f"{k + 1}-{k + 2}": int(n) for k, n in enumerate(expected) if n}


def test_synth_deap_is_small_unless_full(tmp_path, monkeypatch):
    calls = []
    fake = replace(CARDS["deap"], writer=lambda out, **sizes: calls.append(sizes) or out)
    monkeypatch.setitem(CARDS, "deap", fake)
    assert main(["synth", "deap", str(tmp_path)]) == 0
    assert main(["synth", "deap", str(tmp_path), "--full"]) == 0
    assert main(["synth", "deap", str(tmp_path), "--seconds", "2"]) == 0
    assert calls == [
        {"seed": 0, "subjects": 3, "seconds": 5.0},
        {"seed": 0},  # the writer's defaults: 32 subjects x 60 s
        {"seed": 0, "subjects": 3, "seconds": 2.0},
    ]


def test_a_recording_refuses_a_nan_rate():
    for rate in (np.nan, np.inf, 0.0):
        with pytest.raises(ValueError, match="sfreq must be a finite number > 0"):
            recording(1, 10, sfreq=rate)

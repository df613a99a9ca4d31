"""Synthetic WESAD subjects: chest and wrist physiology, labels, questionnaire and readme."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .peripheral import ecg_beat, first_order, place, pulse, scr_shape

# ----------------------------------------------------------------------------- WESAD
# Physiology model (ours; sizes and time constants from the psychophysiology literature, rounded):
# every condition sets a target for each slow state and the body follows it as a first-order
# system: tonic skin conductance (tau 30 s), heart rate (tau 15 s), breathing rate (tau 10 s),
# wrist skin temperature (tau 120 s, vasoconstriction under stress). Skin conductance responses
# (rise 0.75 s, decay 3 s) come as a Poisson train whose rate depends on the condition; the BVP
# pulse shrinks as skin temperature falls; beat-to-beat variability shrinks as the heart rate
# rises. Subjects differ (`WESAD_SUBJECTS`) in resting levels and in how strongly each system
# responds, so a model trained on other subjects meets levels it has not seen: the calibration
# (docs/synthetic.md) puts logistic regression across subjects near the ~80 % Schmidt et al.
# report for three classes, with amusement, as on the real data, close to baseline.

#: label code -> targets: tonic EDA (uS above rest), heart rate (bpm above rest), breaths/min
#: (above a resting 14), wrist temperature (degC above rest), SCRs per minute, movement (0-1)
WESAD_RESPONSES = {
    0: dict(eda=0.3, hr=2.0, breaths=1.0, temp=0.0, scr=3.0, move=0.3),  # transitions
    1: dict(eda=0.0, hr=0.0, breaths=0.0, temp=0.0, scr=2.0, move=0.1),  # baseline
    2: dict(eda=1.5, hr=10.0, breaths=4.0, temp=-0.4, scr=5.0, move=0.4),  # stress (TSST)
    3: dict(eda=0.3, hr=2.0, breaths=1.0, temp=-0.05, scr=3.0, move=0.15),  # amusement
    4: dict(eda=-0.4, hr=-4.0, breaths=-7.0, temp=0.3, scr=1.0, move=0.05),  # meditation
    6: dict(eda=0.5, hr=4.0, breaths=2.0, temp=0.0, scr=3.0, move=0.2),  # reading (ignored)
}
#: between-subject spread (ours): sd of the resting levels (heart rate bpm, breaths/min, wrist
#: temperature degC, log of the beat-to-beat variability) and of the log of each response's
#: gain (0.5: one subject in six responds at most 60 % as strongly as the typical one, one in
#: six 1.6 times or more)
WESAD_SUBJECTS = dict(hr=9.5, breaths=2.5, temp=1.0, hrv=0.4, gain=0.5)
WESAD_TIME_CONSTANTS = {"eda": 30.0, "hr": 15.0, "breaths": 10.0, "temp": 120.0}
#: (ORDER name, label code, length in units of `seconds`); TSST and Fun swap every other subject
WESAD_PROTOCOL = (
    ("Base", 1, 2.0),
    ("TSST", 2, 1.0),
    ("sRead", 6, 0.2),
    ("Medi 1", 4, 0.7),
    ("Fun", 3, 0.6),
    ("fRead", 6, 0.2),
    ("Medi 2", 4, 0.7),
)
WESAD_GAP = 0.25  # transition (label 0) between the periods, in units of `seconds`
#: condition code -> (SAM valence, SAM arousal) means, 1-9
WESAD_SAM = {1: (6.0, 3.0), 2: (4.0, 7.0), 3: (7.0, 5.0), 4: (6.5, 2.0)}
GRID_RATE = 32.0  # Hz of the slow states, interpolated to every stream's rate


@dataclass
class _Body:
    """One subject's slow states on the `GRID_RATE` grid (times `grid`, s): movement (0-1),
    wrist temperature (degC above rest), skin conductance (uS, tonic plus responses) and
    breathing phase (rad), each (n_grid,); heart beat times `beats` (s)."""

    grid: np.ndarray
    move: np.ndarray
    temp: np.ndarray
    eda: np.ndarray
    breathing: np.ndarray
    beats: np.ndarray

    def at(self, values: np.ndarray, times: np.ndarray) -> np.ndarray:
        """A grid state interpolated at `times` (s)."""
        return np.interp(times, self.grid, values)


def simulate_wesad_subject(rng, seconds=30.0, swap=False) -> dict:
    """One subject's session: the pkl content (chest at 700 Hz, wrist at its rates) and periods.

    Returns {"chest": {key: (n, k)}, "wrist": {key: (m, k)}, "label": (n,) int32,
    "periods": [(ORDER name, code, start_s, stop_s)]}.
    """
    periods, total = _periods(seconds, swap)
    body = _body(rng, periods, total)
    t700 = np.arange(int(total * 700)) / 700.0
    chest = _chest(rng, body, t700)
    wrist = _wrist(rng, body, total)
    label = np.zeros(t700.size, dtype=np.int32)
    for _, code, start, stop in periods:
        label[(t700 >= start) & (t700 < stop)] = code
    return {"chest": chest, "wrist": wrist, "label": label, "periods": periods}


def _periods(seconds: float, swap: bool) -> tuple[list, float]:
    """The protocol's periods [(ORDER name, code, start_s, stop_s)] with transitions between
    them, and the session's length (s); `swap` runs Fun (and its reading) before TSST."""
    protocol = list(WESAD_PROTOCOL)
    if swap:
        protocol[1:3], protocol[4:6] = protocol[4:6], protocol[1:3]
    periods, t = [], WESAD_GAP * seconds
    for name, code, length in protocol:
        periods.append((name, code, t, t + length * seconds))
        t += (length + WESAD_GAP) * seconds
    return periods, t


def _body(rng, periods, total: float) -> _Body:
    """The slow states following each period's targets (`WESAD_RESPONSES`) as first-order
    systems, with the subject's resting levels and gains (`WESAD_SUBJECTS`), skin conductance
    responses and beats."""
    grid = np.arange(int(total * GRID_RATE)) / GRID_RATE
    codes = np.zeros(grid.size, dtype=int)
    for _, code, start, stop in periods:
        codes[(grid >= start) & (grid < stop)] = code
    target = {key: np.array([WESAD_RESPONSES[c][key] for c in codes]) for key in WESAD_RESPONSES[0]}
    spread = WESAD_SUBJECTS
    gain = {key: np.exp(rng.normal(0, spread["gain"])) for key in target}
    state = {
        key: first_order(gain[key] * target[key], tau, GRID_RATE)
        for key, tau in WESAD_TIME_CONSTANTS.items()
    }
    rest_eda, rest_hr = rng.uniform(2.0, 8.0), rng.normal(72, spread["hr"])
    rest_breaths, rest_temp = rng.normal(14, spread["breaths"]), rng.normal(0, spread["temp"])
    # skin conductance responses: Poisson events, bi-exponential shape
    events = rng.random(grid.size) < gain["scr"] * target["scr"] / 60 / GRID_RATE
    scr = np.convolve(events * rng.uniform(0.1, 0.8, grid.size), scr_shape(GRID_RATE))[: grid.size]
    # beats from the integrated heart rate; their jitter shrinks as the rate rises
    heart_rate = rest_hr + state["hr"]
    phase = np.cumsum(heart_rate / 60 / GRID_RATE)
    beats = np.interp(np.arange(1, int(phase[-1])), phase, grid)
    jitter = 0.015 * np.exp(rng.normal(0, spread["hrv"]) - state["hr"] / 20)
    beats += rng.normal(0, 1, beats.size) * np.interp(beats, grid, jitter)
    return _Body(
        grid=grid,
        move=np.clip(gain["move"] * target["move"], 0, 1),
        temp=rest_temp + state["temp"],
        eda=rest_eda + state["eda"] + scr,
        breathing=2
        * np.pi
        * np.cumsum(np.maximum(rest_breaths + state["breaths"], 4) / 60 / GRID_RATE),
        beats=beats,
    )


def _chest(rng, body: _Body, t700: np.ndarray) -> dict[str, np.ndarray]:
    """The RespiBAN's streams at 700 Hz (times `t700`, s): ACC (n, 3), the others (n, 1)."""
    n = t700.size
    move700 = body.at(body.move, t700)
    return {
        "ACC": np.array([0.85, -0.05, -0.5])
        + rng.normal(0, 1, (n, 3)) * (0.005 + 0.03 * move700[:, None]),
        "ECG": (
            place(ecg_beat(700.0), body.beats - 0.3, np.ones(body.beats.size), 700.0, n)
            + rng.normal(0, 0.02, n)
        )[:, None],
        "EMG": (rng.normal(0, 1, n) * (0.005 + 0.02 * move700))[:, None],
        "EDA": (body.at(body.eda, t700) + rng.normal(0, 0.002, n))[:, None],
        "Temp": (34.0 + 0.2 * body.at(body.temp, t700) + rng.normal(0, 0.01, n)).astype(np.float32)[
            :, None
        ],
        "Resp": (3.0 * np.sin(body.at(body.breathing, t700)) + rng.normal(0, 0.1, n))[:, None],
    }


def _wrist(rng, body: _Body, total: float) -> dict[str, np.ndarray]:
    """The Empatica E4's streams over `total` s, each at its own rate: ACC (m, 3) at 32 Hz,
    BVP (64 Hz), EDA and TEMP (4 Hz) as (m, 1)."""
    wrist = {}
    for key, rate in (("ACC", 32.0), ("BVP", 64.0), ("EDA", 4.0), ("TEMP", 4.0)):
        times = np.arange(int(total * rate)) / rate
        if key == "ACC":
            move = body.at(body.move, times)[:, None]
            values = 64 * np.array([-0.3, 0.1, 0.95]) + rng.normal(0, 1, (times.size, 3)) * (
                0.5 + 6 * move
            )
        elif key == "BVP":
            strength = 60 * np.exp(0.4 * body.at(body.temp, body.beats))
            values = place(pulse(rate), body.beats, strength, rate, times.size) + rng.normal(
                0, 2, times.size
            )
        elif key == "EDA":
            values = 0.3 * body.at(body.eda, times) + rng.normal(0, 0.005, times.size)
        else:
            values = 32.0 + body.at(body.temp, times) + rng.normal(0, 0.02, times.size)
        wrist[key] = values if values.ndim == 2 else values[:, None]
    return wrist


def _minutes_seconds(seconds: float) -> str:
    """Time as the questionnaire writes it: minutes.seconds (7 min 8 s -> "7.08")."""
    whole = int(round(seconds))
    return f"{whole // 60}.{whole % 60:02d}"


def _quest_lines(rng, subject: str, periods) -> list[str]:
    """SX_quest.csv in the distributed layout: ORDER/START/END, then PANAS, STAI, DIM, SSSQ.

    As in the real files, ORDER lists the five protocol conditions first, the readings after.
    """
    columns = sorted(periods, key=lambda period: period[1] not in WESAD_SAM)
    rows = [
        f"# Subj;{subject};;;",
        "# ORDER;" + ";".join(name for name, *_ in columns) + ";;",
        "# START;" + ";".join(_minutes_seconds(start) for *_, start, _ in columns) + ";;",
        "# END;" + ";".join(_minutes_seconds(stop) for *_, stop in columns) + ";;",
        ";;;;",
    ]
    protocol = [code for _, code, *_ in periods if code in WESAD_SAM]
    blocks = {"PANAS": [], "STAI": [], "DIM": []}
    for code in protocol:
        stressed = {2: 1.0, 3: 0.2, 1: 0.0, 4: -0.3}[code]
        n_items = 26 if code == 2 else 24
        negative = rng.random(n_items) < 0.5  # which items read as negative affect (ours)
        panas = np.clip(
            np.rint(2 + 1.5 * stressed * np.where(negative, 1, -0.5) + rng.normal(0, 0.7, n_items)),
            1,
            5,
        )
        stai = np.clip(
            np.rint(2 + 1.2 * stressed * np.array([-1, 1, 1, -1, 1, -1]) + rng.normal(0, 0.5, 6)),
            1,
            4,
        )
        sam = np.clip(np.rint(np.array(WESAD_SAM[code]) + rng.normal(0, 0.8, 2)), 1, 9)
        cells = [f"{v:g}" for v in panas]
        if rng.random() < 0.3:
            cells[int(rng.integers(n_items))] = "Nan"  # a question left out, as in the real files
        blocks["PANAS"].append("# PANAS;" + ";".join(cells) + ";;")
        blocks["STAI"].append("# STAI;" + ";".join(f"{v:g}" for v in stai) + ";;")
        blocks["DIM"].append("# DIM;" + ";".join(f"{v:g}" for v in sam) + ";;")
    for tag in ("PANAS", "STAI", "DIM"):
        rows += blocks[tag] + [";;;;"]
    sssq = np.clip(np.rint(3.5 + rng.normal(0, 0.8, 6)), 1, 5)
    rows.append("# SSSQ;" + ";".join(f"{v:g}" for v in sssq) + ";;")
    return rows


def write_wesad(out_dir, subjects=3, seconds=30.0, seed=0) -> Path:
    """Write WESAD subject folders ``S2/`` ... into ``out_dir`` (``SX.pkl`` as a protocol-2
    pickle of plain dicts, ``SX_quest.csv``, ``SX_readme.txt``); returns out_dir.

    seconds: the unit of the protocol's lengths (baseline 2x, stress 1x, amusement 0.6x,
    meditations 0.7x, with transitions between); the real study used 20 min of baseline and
    about 10 min of stress, i.e. seconds ~ 600.
    """
    import pickle

    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    numbers = [k for k in range(2, 2 + subjects + 1) if k != 12][:subjects]
    for i, number in enumerate(numbers):
        subject = f"S{number}"
        folder = out / subject
        folder.mkdir(parents=True, exist_ok=True)
        session = simulate_wesad_subject(rng, seconds, swap=bool(i % 2))
        content = {
            "signal": {"chest": session["chest"], "wrist": session["wrist"]},
            "label": session["label"],
            "subject": subject,
        }
        partial = folder / f"{subject}.pkl.partial"
        with partial.open("wb") as file:
            pickle.dump(content, file, protocol=2)
        partial.replace(folder / f"{subject}.pkl")
        lines = _quest_lines(rng, subject, session["periods"])
        (folder / f"{subject}_quest.csv").write_text("\n".join(lines) + "\n")
        readme = [
            "### Personal information ###",
            f"Age: {int(rng.integers(21, 35))}",
            f"Height (cm): {int(rng.normal(175, 8))}",
            f"Weight (kg): {int(rng.normal(72, 10))}",
            f"Gender: {rng.choice(['male', 'female'])}",
            f"Dominant hand: {rng.choice(['right', 'left'], p=[0.9, 0.1])}",
            "",
            "### Study pre-requisites ###",
            "Did you drink coffee today? NO",
            "Did you do any sports today? NO",
            "",
            "### Additional notes ###",
            "Synthetic subject written by physioemo; not a WESAD recording.",
        ]
        (folder / f"{subject}_readme.txt").write_text("\n".join(readme) + "\n")
    return out

"""Feature speed: physioemo against a TorchEEG-style loop and vectorised SciPy, in one run.

Input: DEAP-shaped float32 noise (trials x 32 channels x 63 s at 128 Hz; 32 subjects x 40
trials, or fewer with --quick). The filter cost does not depend on the signal's content.
Rows report seconds, windows/s (one window = one 1-s segment of one trial, all channels and
bands), GB/s of raw float32 signal, and the speed-up of physioemo over each row.

Threads: DE (zero-phase) on one Numba thread and on every core, and band power (one thread by
design: its two-thread path burned more CPU for no speed), each with its wall and CPU seconds;
DE against its arithmetic floor: the floating-point operations of the filtering (9 per sample,
channel, band and second-order section, forward and backward over the padded trial, plus 3 per
sample for the running sums) at the float64 rate a matrix product reaches on every core.

    python benchmarks/features.py [--quick] [--subjects N] [--out F]

Exits non-zero only on an error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import signal
from summaries import markdown, write

SFREQ, N_CHANNELS, SECONDS, TRIALS_PER_SUBJECT = 128, 32, 63, 40
BANDS = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}


def deap_shaped(n_trials: int, seed=0) -> np.ndarray:
    """(n_trials, 32, 8064) float32 white noise, made trial by trial to keep the peak low."""
    rng = np.random.default_rng(seed)
    x = np.empty((n_trials, N_CHANNELS, SECONDS * SFREQ), dtype=np.float32)
    for trial in x:
        trial[:] = rng.standard_normal(trial.shape, dtype=np.float32)
    return x


def torcheeg_style_de(x: np.ndarray) -> np.ndarray:
    """TorchEEG's BandDifferentialEntropy loop: per 1-s chunk, band and channel, design a
    5th-order Butterworth band-pass and lfilter that chunk alone; DE in bits."""
    out = []
    for trial in x:
        for start in range(0, trial.shape[-1] - SFREQ + 1, SFREQ):
            chunk = trial[:, start : start + SFREQ]
            for low, high in BANDS.values():
                for channel in chunk:
                    b, a = signal.butter(5, [low / (SFREQ / 2), high / (SFREQ / 2)], "band")
                    y = signal.lfilter(b, a, channel)
                    out.append(0.5 * np.log2(2 * np.pi * np.e * np.var(y)))
    return np.asarray(out)


def scipy_de(x: np.ndarray, block=32) -> np.ndarray:
    """Best vectorised SciPy: sosfiltfilt of whole trials per band, then windowed variance."""
    from physioemo.features import bandpass_sos

    n_windows = x.shape[-1] // SFREQ
    out = np.empty((len(x), n_windows, x.shape[1], len(BANDS)))
    for first in range(0, len(x), block):
        part = x[first : first + block]
        for j, (low, high) in enumerate(BANDS.values()):
            y = signal.sosfiltfilt(bandpass_sos(float(SFREQ), low, high), part, axis=-1)
            windows = y[..., : n_windows * SFREQ].reshape(*y.shape[:-1], n_windows, SFREQ)
            out[first : first + block, ..., j] = np.moveaxis(windows.var(axis=-1), -1, -2)
    return 0.5 * np.log(2 * np.pi * np.e * out)


def scipy_welch(x: np.ndarray, block=64) -> np.ndarray:
    """scipy.signal.welch of every 1-s window, then the mean PSD of each band [low, high)."""
    n_windows = x.shape[-1] // SFREQ
    out = np.empty((len(x), x.shape[1], n_windows, len(BANDS)))
    for first in range(0, len(x), block):
        part = x[first : first + block, :, : n_windows * SFREQ]
        windows = part.reshape(*part.shape[:-1], n_windows, SFREQ)
        freqs, psd = signal.welch(windows, fs=SFREQ, nperseg=SFREQ, axis=-1)
        for j, (low, high) in enumerate(BANDS.values()):
            out[first : first + block, ..., j] = psd[..., (freqs >= low) & (freqs < high)].mean(-1)
    return out


def timed(function, *args, repeat=1):
    """(best seconds, result) of `repeat` calls."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def flop_rate(size: int = 1536) -> float:
    """float64 operations per second of a matrix product on every core (the best of 3)."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(size, size)), rng.normal(size=(size, size))
    return 2 * size**3 / timed(np.dot, a, b, repeat=3)[0]


def de_flops(x: np.ndarray) -> float:
    """Floating-point operations of zero-phase DE of `x` (module docstring)."""
    from physioemo.features.spectral import bandpass_sos, sosfiltfilt_padlen

    n_signals, n_channels, n_times = x.shape
    total = 0.0
    for low, high in BANDS.values():
        sos = bandpass_sos(float(SFREQ), low, high)
        padded = n_times + 2 * sosfiltfilt_padlen(sos)
        total += n_signals * n_channels * (2 * padded * len(sos) * 9 + 3 * n_times)
    return total


def thread_rows(x: np.ndarray, repeat: int) -> list[tuple[str, float, float]]:
    """(path, wall seconds, CPU seconds) of DE on one thread and on every core, and of band
    power (welch)."""
    import numba

    from physioemo.features import band_power, differential_entropy

    rows = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        rows.append(
            (
                f"DE  zero-phase, {threads} thread(s)",
                *wall_and_cpu(lambda: differential_entropy(x, SFREQ), repeat),
            )
        )
    rows.append(
        (
            "BP  welch (one thread)",
            *wall_and_cpu(lambda: band_power(x, SFREQ, method="welch"), repeat),
        )
    )
    return rows


def wall_and_cpu(function, repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` calls (CPU: this process, every thread)."""
    best = (np.inf, np.inf)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        found = (time.perf_counter() - wall, time.process_time() - cpu)
        best = min(best, found)
    return best


def in_fresh_python(code: str, env=None) -> float:
    """Seconds a fresh interpreter reports for `code` (which prints one float)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return float(result.stdout.strip().splitlines()[-1])


IMPORT = "import time; t = time.perf_counter(); import physioemo; print(time.perf_counter() - t)"
FIRST_CALL = (
    "import time, numpy as np; from physioemo.features import differential_entropy as de; "
    "x = np.ones((1, 2, 256), np.float32); x[0, 0, 0] = 2; t = time.perf_counter(); de(x, 128); "
    "print(time.perf_counter() - t)"
)
PEAK_MEMORY = """
import numpy as np
from physioemo.features import differential_entropy
x = np.random.default_rng(0).standard_normal(({n}, 32, 8064), dtype=np.float32)
differential_entropy(x[:1], 128)
def rss(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
before = rss("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
differential_entropy(x, 128)
print((rss("VmHWM:") - before) / x.nbytes)
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 subjects instead of 32")
    parser.add_argument("--subjects", type=int, help="subjects of 40 trials (default 32)")
    parser.add_argument("--torcheeg-trials", type=int, default=2, help="trials timed, then scaled")
    parser.add_argument("--out", type=Path, help="write the summary as JSON here (docs/results)")
    args = parser.parse_args(argv)
    subjects = args.subjects or (2 if args.quick else 32)
    n_trials = subjects * TRIALS_PER_SUBJECT
    repeat = 3 if args.quick else 1

    from physioemo.features import band_power, differential_entropy

    print(
        f"Input: {subjects} subjects x {TRIALS_PER_SUBJECT} trials x {N_CHANNELS} channels x "
        f"{SECONDS} s at {SFREQ} Hz, float32; 4 bands, 1-s windows; {os.cpu_count()} CPUs"
    )
    x = deap_shaped(n_trials)
    gigabytes = x.nbytes / 1e9
    n_windows = n_trials * SECONDS

    import_s = min(in_fresh_python(IMPORT) for _ in range(3))
    first_cached = in_fresh_python(FIRST_CALL)
    with tempfile.TemporaryDirectory() as empty:
        first_compile = in_fresh_python(FIRST_CALL, {"NUMBA_CACHE_DIR": empty})
    differential_entropy(x[:1], SFREQ, zero_phase=False)
    band_power(x[:1], SFREQ, method="welch")
    band_power(x[:1], SFREQ, method="fft")

    subset = x[: args.torcheeg_trials]
    torcheeg_s = timed(torcheeg_style_de, subset)[0] * n_trials / len(subset)
    rows = [(f"DE  TorchEEG-style loop (scaled from {len(subset)} trials)", torcheeg_s)]
    rows.append(("DE  SciPy sosfiltfilt + windowed var", timed(scipy_de, x, repeat=repeat)[0]))
    de_s, de = timed(differential_entropy, x, SFREQ, repeat=repeat)
    rows.append(("DE  physioemo zero-phase", de_s))
    rows.append(
        (
            "DE  physioemo causal",
            timed(lambda: differential_entropy(x, SFREQ, zero_phase=False), repeat=repeat)[0],
        )
    )
    rows.append(("BP  SciPy welch per window", timed(scipy_welch, x, repeat=repeat)[0]))
    bp_welch_s = timed(lambda: band_power(x, SFREQ, method="welch"), repeat=repeat)[0]
    bp_fft_s = timed(lambda: band_power(x, SFREQ, method="fft"), repeat=repeat)[0]
    rows += [("BP  physioemo welch", bp_welch_s), ("BP  physioemo fft", bp_fft_s)]
    del de
    memory_trials = min(n_trials, 320)  # a fresh process holds its own input: keep it modest
    peak = in_fresh_python(PEAK_MEMORY.format(n=memory_trials))

    table = [
        {
            "path": name,
            "seconds": f"{seconds:.2f}",
            "windows/s": f"{n_windows / seconds:,.0f}",
            "GB/s": f"{gigabytes / seconds:.2f}",
            "physioemo speed-up": "-"
            if "physioemo" in name
            else f"{seconds / (de_s if name.startswith('DE') else bp_fft_s):,.1f}x",
        }
        for name, seconds in rows
    ]
    print("\n" + markdown(table))
    scipy_s, torch_s = rows[1][1], rows[0][1]
    print(
        f"\nimport physioemo (warm): {import_s:.2f} s; first DE call in a fresh process: "
        f"{first_cached:.2f} s with Numba's disk cache, {first_compile:.1f} s compiling"
    )
    print(f"peak extra memory of DE: {peak:.2f}x the input array ({memory_trials} trials)")
    checks = [
        (f"DE >= 5x SciPy ({scipy_s / de_s:.1f}x)", scipy_s / de_s >= 5),
        (f"DE >= 300x TorchEEG-style ({torch_s / de_s:,.0f}x)", torch_s / de_s >= 300),
        (f"DE of this input < 10 s ({de_s:.1f} s)", de_s < 10),
        (
            f"band power >= 1 GB/s (welch {gigabytes / bp_welch_s:.2f}, "
            f"fft {gigabytes / bp_fft_s:.2f})",
            gigabytes / max(bp_welch_s, bp_fft_s) >= 1,
        ),
        (f"import < 1.5 s ({import_s:.2f} s)", import_s < 1.5),
        (f"DE peak extra memory < 2x input ({peak:.2f}x)", peak < 2),
    ]
    print("\n| threads | wall s | CPU s | CPU / wall |")
    print("|---|---:|---:|---:|")
    threads = thread_rows(x, repeat)
    for name, wall, cpu in threads:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {cpu / wall:.2f} |")
    rate, flops = flop_rate(), de_flops(x)
    floor = flops / rate
    print(
        f"\nDE arithmetic floor: {flops / 1e9:.1f} GFLOP at {rate / 1e9:.1f} GFLOP/s (float64 "
        f"matrix product, every core) = {floor:.2f} s; DE on every core takes "
        f"{threads[1][1] / floor:.1f}x the floor, on one thread {threads[0][1] / floor:.1f}x"
    )
    print("\nTargets:")
    for text, met in checks:
        print(f"  [{'met' if met else 'MISSED'}] {text}")
    if args.out:
        summary = {
            "input": f"{subjects} subjects x {TRIALS_PER_SUBJECT} trials x {N_CHANNELS} channels "
            f"x {SECONDS} s at {SFREQ} Hz, float32",
            "table": table,
            "import_s": f"{import_s:.2f}",
            "first_call_cached_s": f"{first_cached:.2f}",
            "first_call_compiling_s": f"{first_compile:.1f}",
            "de_peak_memory_x_input": f"{peak:.2f}",
            "band_power_gb_s": f"{gigabytes / bp_fft_s:.2f}",
            "threads": [
                {
                    "path": n,
                    "wall s": f"{w:.2f}",
                    "CPU s": f"{c:.2f}",
                    "CPU / wall": f"{c / w:.2f}",
                }
                for n, w, c in threads
            ],
            "floor": {
                "gflop": f"{flops / 1e9:.1f}",
                "gflop_per_s": f"{rate / 1e9:.1f}",
                "seconds": f"{floor:.2f}",
                "every_core_x": f"{threads[1][1] / floor:.1f}",
                "one_thread_x": f"{threads[0][1] / floor:.1f}",
            },
            "targets": [
                {"target": text, "met": "met" if met else "MISSED"} for text, met in checks
            ],
        }
        write(args.out, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

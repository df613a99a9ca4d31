"""Training throughput and per-window inference latency of every torch model.

For each model on DREAMER-shaped input (14 channels; raw 1-s windows at 128 Hz or 4-band DE
tokens; the PINN on 12 features): training throughput in windows/s (Adam steps on batches of
64, after warm-up) and inference latency of one window (batch 1, eval mode, no grad; p50 and
p99 over repeated calls). The reference measured in the same run is a logistic-regression
baseline's predict on one DE window, so the ratio column survives machine changes. With
--out, the table as a stored summary (and each model's "p50 / p99" latency for the README).

    python benchmarks/models.py [--threads 2] [--quick] [--out F]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from summaries import markdown, write

from physioemo import models
from physioemo.experiment.export import machine
from physioemo.models._layers import count_parameters

MODELS = tuple(n for n in models.available() if models.spec(n).framework == "torch")
INPUTS = {"raw": (14, 128), "de": (14, 4), "peripheral": (12,)}


def _model(name: str):
    n_outputs = {"pinn": 3, "histn": 5}.get(name, 2)  # the papers' settings
    n_chans = 12 if name == "pinn" else 14
    return models.create(name, n_chans=n_chans, n_outputs=n_outputs, n_times=128, sfreq=128.0)


def _call(net, name, x):
    return net(x, torch.rand(len(x)))[1] if name == "pinn" else net(x)


def training_throughput(name: str, steps: int, batch: int = 64) -> float:
    net = _model(name).train()
    x = torch.randn(batch, *INPUTS[models.spec(name).inputs])
    y = torch.randint(0, 2, (batch,))  # classes 0-1 exist for every model
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    for i in range(steps + 3):
        if i == 3:
            started = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(_call(net, name, x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return steps * batch / (time.perf_counter() - started)


def latency_ms(predict, calls: int) -> tuple[float, float]:
    for _ in range(10):
        predict()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        predict()
        times.append(time.perf_counter() - started)
    return 1e3 * float(np.percentile(times, 50)), 1e3 * float(np.percentile(times, 99))


def reference_latency(calls: int) -> float:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(400, 14, 4)), np.repeat([0, 1], 200)
    baseline = models.create("logreg").fit(X, y)
    return latency_ms(lambda: baseline.predict(X[:1]), calls)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", type=Path, help="write the summary as JSON here (docs/results)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps, calls = (5, 50) if args.quick else (20, 300)
    load = f"{os.getloadavg()[0]:.1f}"
    print(
        f"# Model speed, {time.strftime('%Y-%m-%d')}, torch {torch.__version__}, "
        f"{args.threads} torch thread(s)\n\nMachine: {machine()}, load average {load} at start\n"
    )
    reference = reference_latency(calls)
    print(f"Reference: logistic regression predict, one DE window: {reference:.3f} ms (p50)\n")
    table = [row(name, steps, calls, reference) for name in MODELS]
    print(markdown(table))
    if args.out:
        summary = {
            "threads": args.threads,
            "load_average": load,
            "reference_ms": f"{reference:.3f}",
            "table": table,
            "latency": latencies(table),
        }
        write(args.out, summary)


def latencies(table: list[dict]) -> dict[str, str]:
    """model -> "p50 / p99" latency in ms, as the README quotes it."""
    return {r["model"]: f"{r['latency p50 ms']} / {r['latency p99 ms']}" for r in table}


def row(name: str, steps: int, calls: int, reference: float) -> dict:
    """One model's figures, formatted as printed."""
    kind = models.spec(name).inputs
    throughput = training_throughput(name, steps)
    net = _model(name).eval()
    one = torch.randn(1, *INPUTS[kind])
    with torch.no_grad():
        p50, p99 = latency_ms(lambda: _call(net, name, one), calls)
    return {
        "model": name,
        "input": f"{kind} {INPUTS[kind]}",
        "trainable params": f"{count_parameters(net)['trainable']:,}",
        "training windows/s": f"{throughput:,.0f}",
        "latency p50 ms": f"{p50:.2f}",
        "latency p99 ms": f"{p99:.2f}",
        "p50 / reference": f"{p50 / reference:.1f}",
    }


if __name__ == "__main__":
    main()

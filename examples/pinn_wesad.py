"""Multi-task EDA PINN (papers.md 2.4) on WESAD through the experiment engine: files -> 60-s
windows of peripheral features -> the PINN and two baselines under a subject-grouped protocol
-> EDA RMSE, Pearson r, macro-F1 and the learned alpha_0, beta, gamma per fold.

    python examples/pinn_wesad.py --root path/to/WESAD      # the real dataset
    python examples/pinn_wesad.py                           # synthetic WESAD, 8 subjects

The same as ``physioemo bench --dataset wesad --models pinn logreg rf`` with 5 groups of
subjects, plus the PINN's physics: features are the `peripheral` recipe (heart, respiration,
temperature, motion, SCRs; never the EDA level it predicts; see
`physioemo.features.peripheral_windows`), the target the window's mean wrist EDA min-max
scaled per subject, classes baseline / stress / amusement. Self-reports (PANAS, SAM) are off:
they are constant within a subject x condition and nearly encode the label (the `pinn-paper`
protocol adds them, and says it leaks). Only alpha_0/gamma and beta/gamma are identifiable
(`physioemo.models.pinn`).
"""

from __future__ import annotations

import argparse

import numpy as np

from physioemo.experiment import Experiment, run
from physioemo.experiment.store import Store


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="WESAD folder (holding S2 ... S17); synthetic if absent")
    parser.add_argument("--subjects", type=int, default=8, help="synthetic subjects")
    parser.add_argument("--folds", type=int, default=5, help="groups of subjects")
    parser.add_argument("--profile", default="quick", choices=["quick", "full"])
    parser.add_argument("--out", default="physioemo-runs/pinn-wesad", help="run folder")
    args = parser.parse_args(argv)
    experiment = Experiment(
        datasets=["wesad"],
        roots={"wesad": args.root} if args.root else {},
        models=["pinn", "logreg", "rf"],
        protocols=["subject-independent"],
        protocol_options={"subject-independent": {"n_splits": args.folds}},
        profile=args.profile,
        seed=0,
        synthetic={"subjects": args.subjects},
    )
    result = run(experiment, out=args.out, progress=False, echo=print)
    with Store(f"{args.out}/store.sqlite") as store:
        physics = [r["report"]["physics"] for r in store.rows() if r["model"] == "pinn"]
    print("PINN physics over folds (mean ± std; only the ratios are identifiable):")
    ratios = {
        "alpha0/gamma": [p["alpha0_over_gamma"] for p in physics],
        **{
            f"beta_{name}/gamma": [p["beta_over_gamma"][i] for p in physics]
            for i, name in enumerate(("baseline", "stress", "amusement"))
        },
    }
    for name, values in ratios.items():
        print(f"  {name:>20}: {np.mean(values):.3f} ± {np.std(values):.3f}")
    return {**result, "physics": ratios}


if __name__ == "__main__":
    main()

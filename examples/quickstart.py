"""Load DREAMER -> differential entropy -> honest cross-validation, in a few lines.

Run with a real file:   python examples/quickstart.py path/to/DREAMER.mat
or without arguments on synthetic data written in DREAMER's format.
"""

import sys
import tempfile

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from physioemo import datasets, extract_windows, labels, protocols
from physioemo.datasets.synthetic import write_dreamer
from physioemo.evaluation import format_table, summarise
from physioemo.experiment import cross_validate

if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else write_dreamer(tempfile.mkdtemp(), subjects=6)
    dataset = datasets.load("dreamer", root)
    # X: (n_windows, 14 channels, 4 bands); the trial's baseline DE subtracted
    windows = extract_windows(dataset, kind="de", window=1.0, baseline="subtract")
    y = labels.make("dreamer", "binary", "arousal")(windows.ratings)  # score >= 3 is high

    # the engine's fold jobs, scored on each subject's pooled predictions
    results = []
    for name in ("subject-dependent", "subject-independent"):
        results += cross_validate(windows, y, "logreg", protocols.get(name), dimension="arousal")
    print(format_table(summarise(results)))

    # the splitters are scikit-learn cross-validators: they work with its tools too
    flat = FunctionTransformer(lambda X: X.reshape(len(X), -1))
    model = make_pipeline(flat, StandardScaler(), LogisticRegression(max_iter=1000))
    splitter = protocols.get("subject-independent")
    accuracy = cross_val_score(model, windows.X, y, groups=windows.groups, cv=splitter)
    print(f"leave-one-subject-out accuracy per held-out subject: {accuracy.round(2)}")

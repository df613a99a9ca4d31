"""Load DREAMER -> differential entropy -> honest cross-validation, in a few lines.

Run with a real file:   python examples/quickstart.py path/to/DREAMER.mat
or without arguments on synthetic data written in DREAMER's format.
"""

import sys
import tempfile

from physioemo import datasets, extract_windows, labels, protocols
from physioemo.datasets.synthetic import write_dreamer
from physioemo.evaluation import cross_validate
from physioemo.evaluation.report import format_table, summarise
from physioemo.models import make_baseline

if len(sys.argv) > 1:
    root = sys.argv[1]
else:
    root = write_dreamer(tempfile.mkdtemp(), subjects=6, seconds=20)
dataset = datasets.load("dreamer", root)
# X: (n_windows, 14 channels, 4 bands)
windows = extract_windows(dataset, kind="de", window=1.0, baseline="subtract")
y = labels.scheme("dreamer", "arousal", "binary")(windows.ratings)  # score >= 3 is high

rows = []
for name in ("subject-dependent", "subject-independent"):
    folds = cross_validate(windows.X, y, windows.groups, make_baseline, protocols.get(name))
    rows += [{"dimension": "arousal", "protocol": name, "model": "logreg", **row} for row in folds]
print(format_table(summarise(rows)))

"""Experiments: datasets x feature recipes x models x protocols x label schemes, expanded into
fold jobs, run in-process, on local processes or on Ray, into a resumable run folder.

    from physioemo.experiment import Experiment, load, run
    result = run(Experiment(datasets=["dreamer"], models=["logreg"]), out="runs/first")
    results = load("runs/first")        # its jobs as `Results`: .to_frame(), .per_subject()
"""

from .evaluate import cross_validate
from .export import RunFolderError, export, load
from .results import Results
from .run import merge, run
from .spec import Experiment
from .store import StoreError

__all__ = [
    "Experiment",
    "Results",
    "RunFolderError",
    "StoreError",
    "cross_validate",
    "export",
    "load",
    "merge",
    "run",
]

"""Experiments: datasets x feature recipes x models x protocols x label schemes, expanded into
fold jobs, run in-process, on local processes or on Ray, into a resumable run folder.

    from physioemo.experiment import Experiment, run
    result = run(Experiment(datasets=["dreamer"], models=["logreg"]), out="runs/first")
"""

from .evaluate import cross_validate
from .run import RunFolderError, export, merge, run
from .spec import Experiment
from .store import StoreError

__all__ = ["Experiment", "RunFolderError", "StoreError", "cross_validate", "export", "merge", "run"]

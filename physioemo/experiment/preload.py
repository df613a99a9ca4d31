"""What every local worker process needs, imported once by the forkserver the workers fork from.

`backends.Processes` starts its workers from a forkserver that imports this module first, so
they share its pages of torch, scikit-learn and the fold jobs' code (copy on write) instead of
each importing its own (about 0.3 GB a worker). `gc.freeze()` then keeps those objects out of
the workers' garbage collections, which would write to, and so copy, the pages that hold them.
Nothing here may start a thread: only a process without threads forks safely.
"""

import gc

import torch.optim  # noqa: F401
from torch import _dynamo  # noqa: F401  imported by torch's optimisers at their first step

from ..training import estimator  # noqa: F401  torch and scikit-learn estimators, the trainer
from . import jobs  # noqa: F401

gc.freeze()

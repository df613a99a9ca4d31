"""Evaluation protocols by name: honest splitters, and the papers' own (leaky, and marked so).

    from physioemo import protocols
    protocol = protocols.get("subject-dependent", n_splits=5, random_state=0)
    for train, test in protocol.split(windows.X, y, windows.groups): ...

See `base.Protocol` for the interface and docs/protocols.md for what each protocol holds out.
"""

from ..errors import entry
from .base import INNER_CV, LeakageError, Protocol, check_no_leak, unit_index
from .honest import (
    CrossSession,
    SeedSession,
    StimulusIndependent,
    SubjectDependent,
    SubjectIndependent,
    SubjectStimulusIndependent,
)
from .papers import (
    HistnSD,
    HistnSDWindows,
    HistnSI,
    LeakyWindowKFold,
    PinnPaper,
    PinnPaperNoSelfReport,
    RBTransformerPaper,
)

#: protocol name -> class, the one list of protocols
PROTOCOLS = {
    protocol.name: protocol
    for protocol in (
        SubjectDependent,
        SubjectIndependent,
        SeedSession,
        CrossSession,
        StimulusIndependent,
        SubjectStimulusIndependent,
        HistnSD,
        HistnSDWindows,
        HistnSI,
        RBTransformerPaper,
        PinnPaper,
        PinnPaperNoSelfReport,
        LeakyWindowKFold,
    )
}


def get(name: str, **options) -> Protocol:
    """A protocol by name, e.g. ``get("subject-independent", n_splits=5, random_state=1)``."""
    protocol = entry(PROTOCOLS, name, "protocol")
    try:
        return protocol(**options)
    except TypeError as error:
        raise ValueError(f"protocol {name!r}: {error}") from None


__all__ = [
    "INNER_CV",
    "PROTOCOLS",
    "CrossSession",
    "HistnSD",
    "HistnSDWindows",
    "HistnSI",
    "LeakageError",
    "LeakyWindowKFold",
    "PinnPaper",
    "PinnPaperNoSelfReport",
    "Protocol",
    "RBTransformerPaper",
    "SeedSession",
    "StimulusIndependent",
    "SubjectDependent",
    "SubjectIndependent",
    "SubjectStimulusIndependent",
    "check_no_leak",
    "get",
    "unit_index",
]

"""Evaluation protocols: named splitters that never leak unless their name says so."""

from .splitters import (
    LeakageError,
    LeakyWindowKFold,
    SubjectDependent,
    SubjectIndependent,
    check_no_leak,
)

#: protocol name -> splitter class
PROTOCOLS = {
    SubjectDependent.name: SubjectDependent,
    SubjectIndependent.name: SubjectIndependent,
    LeakyWindowKFold.name: LeakyWindowKFold,
}


def get(name: str, **options):
    """A splitter by protocol name, e.g. ``get("subject-dependent", n_splits=5)``."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; available: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name](**options)


__all__ = [
    "PROTOCOLS",
    "LeakageError",
    "LeakyWindowKFold",
    "SubjectDependent",
    "SubjectIndependent",
    "check_no_leak",
    "get",
]

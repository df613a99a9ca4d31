"""Electrode hierarchies for HiSTN: regions of electrodes, edges inside each region, and a
graph over the regions. Pure Python/NumPy; torch is not needed here.

The DREAMER hierarchy is the paper's (papers.md 1.3, "G0"). For any other headset,
`hierarchy_from_montage` builds one from 10-20 positions; its rules are ours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import montage

#: The HiSTN paper's DREAMER regions (left frontal, left temporal-posterior, right
#: posterior-temporal, right frontal), in ring order.
DREAMER_REGIONS = {
    "left-frontal": ["AF3", "F7", "F3", "FC5"],
    "left-posterior": ["T7", "P7", "O1"],
    "right-posterior": ["O2", "P8", "T8"],
    "right-frontal": ["FC6", "F4", "F8", "AF4"],
}
#: DREAMER's channel order, which is also the regions' order.
DREAMER_CHANNELS = [c for names in DREAMER_REGIONS.values() for c in names]
#: The paper's undirected within-region edges (no self-loops).
DREAMER_EDGES = [
    ("AF3", "F3"),
    ("F7", "F3"),
    ("F7", "FC5"),
    ("F3", "FC5"),
    ("T7", "P7"),
    ("P7", "O1"),
    ("O2", "P8"),
    ("P8", "T8"),
    ("AF4", "F4"),
    ("F8", "F4"),
    ("F8", "FC6"),
    ("F4", "FC6"),
]


@dataclass(frozen=True)
class Hierarchy:
    """Node / region / global levels of an electrode set.

    Attributes:
        ch_names: electrode names in the model's input order.
        regions: region name -> electrode names; regions in ring order.
        edges: undirected within-region electrode pairs.
        region_edges: undirected pairs of region indices (the region graph).
    """

    ch_names: tuple[str, ...]
    regions: dict[str, tuple[str, ...]]
    edges: tuple[tuple[str, str], ...]
    region_edges: tuple[tuple[int, int], ...]

    def __post_init__(self):
        members = [c for names in self.regions.values() for c in names]
        if sorted(members) != sorted(self.ch_names):
            missing = sorted(set(self.ch_names) - set(members))
            extra = sorted(set(members) - set(self.ch_names))
            raise ValueError(
                f"regions must cover every channel once (missing: {missing}, unknown or "
                f"repeated: {extra or sorted(c for c in members if members.count(c) > 1)})"
            )
        region_of = {c: r for r, names in self.regions.items() for c in names}
        for a, b in self.edges:
            if region_of[a] != region_of[b]:
                raise ValueError(f"edge {a}-{b} crosses regions; edges stay inside a region")

    @property
    def order(self) -> np.ndarray:
        """Input channel indices that make every region contiguous, regions in ring order."""
        index = {c: i for i, c in enumerate(self.ch_names)}
        return np.array([index[c] for names in self.regions.values() for c in names])

    @property
    def sizes(self) -> list[int]:
        return [len(names) for names in self.regions.values()]

    def region_edge_index(self, region: str) -> np.ndarray:
        """(2, n_directed_edges) local indices of one region's graph, both directions."""
        local = {c: i for i, c in enumerate(self.regions[region])}
        pairs = [(local[a], local[b]) for a, b in self.edges if a in local]
        return _both_directions(pairs)

    def ring_edge_index(self) -> np.ndarray:
        """(2, n_directed_edges) edges of the region graph, both directions."""
        return _both_directions(self.region_edges)


def _both_directions(pairs) -> np.ndarray:
    if not pairs:
        return np.zeros((2, 0), dtype=np.int64)
    forward = np.array(pairs, dtype=np.int64).T
    return np.concatenate([forward, forward[::-1]], axis=1)


def ring(n: int) -> tuple[tuple[int, int], ...]:
    """Edges of a ring over n regions (a single edge for 2, none for 1)."""
    if n < 2:
        return ()
    if n == 2:
        return ((0, 1),)
    return tuple((i, (i + 1) % n) for i in range(n))


def dreamer_hierarchy() -> Hierarchy:
    """The paper's hierarchy for DREAMER's 14 Emotiv channels (regions, edges, ring)."""
    return Hierarchy(
        tuple(DREAMER_CHANNELS),
        {k: tuple(v) for k, v in DREAMER_REGIONS.items()},
        tuple(DREAMER_EDGES),
        ring(len(DREAMER_REGIONS)),
    )


def hierarchy_from_montage(
    ch_names, regions: dict[str, list[str]] | None = None, neighbours: int = 2
) -> Hierarchy:
    """A hierarchy for any 10-20 electrode set (ours where the paper is silent).

    ch_names: electrode names of the 10-05 system (matched by `physioemo.montage.canonical`).
    regions: optional region map in ring order; by default (ours) five regions around the head:
        `physioemo.montage.regions`.
    neighbours: each electrode is joined to its `neighbours` nearest electrodes of its own
        region (ours; the paper drew DREAMER's edges by hand), edges made undirected.
    The exact DREAMER channel set without `regions` gives the paper's hierarchy.
    """
    ch_names = list(ch_names)
    if regions is None and sorted(ch_names) == sorted(DREAMER_CHANNELS):
        paper = dreamer_hierarchy()
        return Hierarchy(tuple(ch_names), paper.regions, paper.edges, paper.region_edges)
    if regions is None:
        regions = montage.regions(ch_names)
    edges = {
        edge for names in regions.values() for edge in montage.nearest_edges(names, neighbours)
    }
    return Hierarchy(
        tuple(ch_names),
        {k: tuple(v) for k, v in regions.items()},
        tuple(sorted(edges)),
        ring(len(regions)),
    )

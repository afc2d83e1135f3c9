"""The model's memory: the training reports nearest to a new one, and how many of them were police matters.

The network decides police from one sigmoid over its hidden layer: one direction through the space in which it
places reports. Near the decision threshold that direction is a blunt instrument: a teenager who fainted at a
concert, a horse stuck in a ditch, a removal firm holding belongings "hostage" all score 0.1–0.2, enough for a
police decision, while nearly none of the training reports the network places nearest to them were police
matters (0–2 % of 60). The memory keeps, for every training report, where the network places it (its hidden
activations, unit length) and whether it was a police matter; a new report's estimate is the similarity-weighted
share of police matters among its ``k`` nearest training reports (cosine similarity). The combiner blends it with
the network's probability (:class:`router.engine.combiner.EngineSettings`, ``memory_weight``). It does not mend a
confident error whose neighbours agree with it (a frog in the bathroom that scares the children: network 0.97,
neighbours 100 %): that is the network's reading of the words, not its threshold.

Measured with a network and memory trained without the reports measured (the project README, stop 20):
alone the memory is weaker than the network (police AUC 0.986 against 0.993 on the held-out split); blended, the
engine with thresholds chosen again finds as many police matters or more with fewer false alarms: held-out police
recall 0.977 → 0.979 with police/non-police accuracy 0.951 → 0.955 (the network alone, at that recall: 0.947);
four whole writers held out, recall 0.979 → 0.983 at accuracy 0.953 both. On the held-out split 72 police
decisions changed for the better and 38 for the worse.

Search is approximate, as in an inverted-file index: the vectors are grouped into ``cells`` by spherical k-means
(seeded, deterministic), and a query looks only into the ``probe`` cells whose centres are nearest (16 of 255 for
the shipped model, one cell per 160 reports: several times faster than comparing all 40,863 vectors, with the same
figures on the held-out split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Memory", "build"]


@dataclass(frozen=True, eq=False)
class Memory:
    vectors: np.ndarray  # N x hidden, unit length, float32, ordered by cell
    police: np.ndarray  # N, 1.0 where the report was a police matter
    centres: np.ndarray  # cells x hidden, unit length
    starts: np.ndarray  # cells + 1: the vectors of cell c are vectors[starts[c]:starts[c + 1]]
    k: int
    probe: int

    def __len__(self) -> int:
        return len(self.vectors)

    def police_share(self, hidden: np.ndarray) -> tuple[float, int] | None:
        """(similarity-weighted share of police matters among the ``k`` nearest, how many neighbours), or None when
        there is nothing to compare (no activation at all, or no neighbour at a positive similarity)."""
        norm = float(np.linalg.norm(hidden))
        if norm == 0.0:
            return None
        query = (hidden / norm).astype(np.float32)
        cells = self.centres @ query
        nearest = (np.argpartition(-cells, self.probe - 1)[:self.probe] if self.probe < len(cells)
                   else np.arange(len(cells)))
        # each cell's vectors are one contiguous block: multiply the blocks in place (no gathered copy)
        spans = list(zip(self.starts[nearest].tolist(), self.starts[nearest + 1].tolist(), strict=True))
        similarity = np.concatenate([self.vectors[a:b] @ query for a, b in spans])
        police = np.concatenate([self.police[a:b] for a, b in spans])
        if len(similarity) > self.k:
            best = np.argpartition(-similarity, self.k - 1)[:self.k]
            similarity, police = similarity[best], police[best]
        weight = np.maximum(similarity, 0.0)
        total = float(weight.sum())
        if total == 0.0:
            return None
        return float(weight @ police) / total, len(similarity)

    def arrays(self) -> dict[str, np.ndarray]:
        """What the artifact stores (float16 vectors: half the size, cosines within 0.001)."""
        return {"memory_vectors": self.vectors.astype(np.float16), "memory_police": self.police.astype(np.uint8),
                "memory_centres": self.centres.astype(np.float16), "memory_starts": self.starts.astype(np.int64),
                "memory_search": np.array([self.k, self.probe], dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Memory:
        k, probe = (int(x) for x in arrays["memory_search"])
        return cls(arrays["memory_vectors"].astype(np.float32), arrays["memory_police"].astype(np.float32),
                   arrays["memory_centres"].astype(np.float32), arrays["memory_starts"].astype(np.int64), k, probe)


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def build(hidden: np.ndarray, police: np.ndarray, *, k: int, cells: int, probe: int, seed: int,
          iterations: int = 15) -> Memory:
    """A memory of these reports' hidden activations (rows of ``hidden``) and police labels. Reports with no
    activation at all are left out (nothing to compare them by)."""
    if k < 1 or probe < 1 or cells < 1:
        raise ValueError(f"a memory needs k, cells and probe of at least 1 (k={k}, cells={cells}, probe={probe})")
    keep = np.linalg.norm(hidden, axis=1) > 0
    if not keep.any():
        raise ValueError("a memory needs at least one report with activations")
    # float16 is what the artifact stores: build on the stored values, so the loaded memory is the one measured
    vectors = _unit(hidden[keep].astype(np.float32)).astype(np.float16).astype(np.float32)
    labels = police[keep].astype(np.float32)
    cells = min(cells, len(vectors))
    centres = vectors[np.random.default_rng(seed).choice(len(vectors), cells, replace=False)]
    for _ in range(iterations):
        assign = (vectors @ centres.T).argmax(axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, assign, vectors)
        filled = np.linalg.norm(sums, axis=1) > 0
        centres[filled] = _unit(sums[filled])  # an empty cell keeps its centre
    centres = centres.astype(np.float16).astype(np.float32)
    assign = (vectors @ centres.T).argmax(axis=1)
    order = np.argsort(assign, kind="stable")
    starts = np.searchsorted(assign[order], np.arange(cells + 1)).astype(np.int64)
    return Memory(vectors[order], labels[order], centres, starts, k, min(probe, cells))

"""Duplicate incidents: several callers reporting the same incident are linked to the first report.

Two reports describe the same incident when, within a time window, they have the same lead department, are at the
same place (coordinates within a distance, the same community grid cell, or the same normalised address) and their
texts are similar (cosine of character-bigram counts over the normalised text, punctuation and spaces dropped). The
functions here are pure; the routing service finds the candidates (an indexed, bounded query) and links.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

EARTH_RADIUS_M = 6_371_008.8
_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)


def normalised(text: str) -> str:
    """NFKC, case-folded, without spaces and punctuation: '3号楼 着火了！' and '3号楼着火了' read the same."""
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text).casefold())


def bigrams(text: str) -> Counter[str]:
    norm = normalised(text)
    if len(norm) < 2:
        return Counter([norm]) if norm else Counter()
    return Counter(norm[i:i + 2] for i in range(len(norm) - 1))


@dataclass(frozen=True)
class TextProfile:
    """A text's character-bigram counts and their norm, computed once per text."""

    counts: dict[str, int]
    norm: float

    def similarity(self, other: TextProfile) -> float:
        if not self.norm or not other.norm:
            return 0.0
        small, large = (self.counts, other.counts) if len(self.counts) <= len(other.counts) else (other.counts,
                                                                                                  self.counts)
        dot = sum(count * large.get(gram, 0) for gram, count in small.items())
        return dot / (self.norm * other.norm)


@lru_cache(maxsize=4096)  # recent incidents are compared with every new report at their place: profile them once
def profile(text: str) -> TextProfile:
    counts = dict(bigrams(text))
    return TextProfile(counts, math.sqrt(sum(c * c for c in counts.values())))


def similarity(a: str, b: str) -> float:
    """Cosine similarity of the two texts' character-bigram counts, 0 (nothing shared) … 1 (same text)."""
    return profile(a).similarity(profile(b))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _address(location: dict[str, Any]) -> str:
    return normalised(location.get("address") or "")


def address_key(address: str | None) -> str | None:
    """The address as compared for "same place" (normalised; ``None`` when empty), stored for an indexed lookup."""
    key = normalised(address or "")
    return key[:500] or None


CELL_DEG = 0.01  # geographic cells of 0.01° (about 1.1 km north-south): candidates are looked up by cell, indexed


def cell_of(lat: float, lon: float) -> str:
    return f"{math.floor(lat / CELL_DEG)}:{math.floor(lon / CELL_DEG)}"


@dataclass(frozen=True)
class Place:
    """Where a report is, in the columns the candidate query filters on."""

    lat: float | None
    lon: float | None
    grid_id: str | None
    address_key: str | None

    @classmethod
    def of(cls, location: dict[str, Any]) -> Place:
        has_point = location.get("lat") is not None and location.get("lon") is not None
        return cls(lat=location["lat"] if has_point else None, lon=location["lon"] if has_point else None,
                   grid_id=location.get("grid_id") or None, address_key=address_key(location.get("address")))

    @property
    def cell(self) -> str | None:
        """The geographic cell the point lies in (stored, indexed), ``None`` without coordinates."""
        return cell_of(self.lat, self.lon) if self.lat is not None and self.lon is not None else None

    def cells(self, metres: float) -> list[str]:
        """Every cell the box of ``metres`` around the point touches: where its neighbours' cells can be."""
        box = self.box(metres)
        if box is None:
            return []
        rows = range(math.floor(box[0] / CELL_DEG), math.floor(box[1] / CELL_DEG) + 1)
        cols = range(math.floor(box[2] / CELL_DEG), math.floor(box[3] / CELL_DEG) + 1)
        if len(rows) * len(cols) > 400:  # a distance far beyond what duplicates mean: fall back to no cells
            return []
        return [f"{r}:{c}" for r in rows for c in cols]

    @property
    def known(self) -> bool:
        return self.lat is not None or self.grid_id is not None or self.address_key is not None

    def box(self, metres: float) -> tuple[float, float, float, float] | None:
        """(min lat, max lat, min lon, max lon) around the point, a little larger than ``metres``."""
        if self.lat is None or self.lon is None:
            return None
        dlat = metres / 111_000 + 1e-6
        dlon = metres / (111_000 * max(math.cos(math.radians(self.lat)), 0.01)) + 1e-6
        return self.lat - dlat, self.lat + dlat, self.lon - dlon, self.lon + dlon


def same_place(a: dict[str, Any], b: dict[str, Any], *, max_distance_m: float) -> str | None:
    """Why two locations are the same place ('312 m apart' style text), or ``None`` when they are not (or one of
    them says nothing about where it is)."""
    if None not in (a.get("lat"), a.get("lon"), b.get("lat"), b.get("lon")):
        metres = distance_m(a["lat"], a["lon"], b["lat"], b["lon"])
        return f"{metres:.0f} m apart" if metres <= max_distance_m else None
    if a.get("grid_id") and a.get("grid_id") == b.get("grid_id"):
        return f"same grid cell {a['grid_id']}"
    if _address(a) and _address(a) == _address(b):
        return "same address"
    return None


@dataclass(frozen=True)
class Candidate:
    """An open incident a new report may repeat: what the comparison needs, not the whole routing."""

    report_id: str
    text: str
    location: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True)
class DuplicatePolicy:
    window_s: float = 7200.0
    max_distance_m: float = 300.0
    min_similarity: float = 0.3
    max_candidates: int = 50

    def match(self, text: str, location: dict[str, Any], candidate_text: str, candidate_location: dict[str, Any]
              ) -> tuple[float, str] | None:
        """(similarity, why) when the candidate describes the same incident, else ``None``. The caller has already
        checked the time window and the lead department."""
        place = same_place(location, candidate_location, max_distance_m=self.max_distance_m)
        if place is None:
            return None
        score = similarity(text, candidate_text)
        if score < self.min_similarity:
            return None
        return score, f"{place}; text similarity {score:.2f}"

    def best(self, text: str, location: dict[str, Any], candidates: Iterable[Candidate]
             ) -> tuple[Candidate, float, str] | None:
        """The candidate the report most likely repeats (most similar; ties: the earliest), or ``None``."""
        best: tuple[Candidate, float, str] | None = None
        for candidate in candidates:
            found = self.match(text, location, candidate.text, candidate.location)
            if found is not None and (best is None or found[0] > best[1]
                                      or (found[0] == best[1] and candidate.received_at < best[0].received_at)):
                best = (candidate, *found)
        return best

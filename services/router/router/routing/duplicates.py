"""Duplicate incidents: several callers reporting the same incident are linked to the first report.

Two reports describe the same incident when, within a time window, they have the same lead department, are at the
same place (coordinates within a distance, the same community grid cell, or the same normalised address) and their
texts are similar: the cosine of their sets of terms, where the terms are the character bigrams of Chinese (simplified
and traditional read alike) and the words of other scripts, stemmed, without the function words that every English
text shares ("the", "is", "my": character bigrams of English matched "my water bill is too high" with a burst main
on the same street) and without the call-taker's boilerplate ("来电人反映：", "caller states"), which says nothing
about the incident and only dilutes the similarity of two reports of it. The functions here are pure; the routing
service finds the candidates (an indexed, bounded query) and links.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from router.engine.text import to_simplified
from router.routing.classifier import stem

EARTH_RADIUS_M = 6_371_008.8
_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)


def normalised(text: str) -> str:
    """NFKC, case-folded, without spaces and punctuation: '3号楼 着火了！' and '3号楼着火了' read the same."""
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text).casefold())


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FUNCTION_WORDS = frozenset(
    "a an the and or but if of to in on at by for from with about into over under up down out off as than then so "
    "is are was were be been being am do does did done have has had having will would can could should may might "
    "must shall i me my mine we us our ours you your yours he him his she her hers it its they them their theirs "
    "this that these those there here what which who whom whose when where why how all any some no not nor very too "
    "just also only again still yet now please hi hello hey thanks thank sir madam dear ok okay yes "
    # what is left of a contraction ("isn't" → "isn" and "t"; one letter is dropped anyway)
    "isn doesn don didn won wasn weren aren hasn haven hadn couldn shouldn wouldn ll re ve "
    # the call-taker's boilerplate ("caller states…", "RP advises…")
    "caller callers states stated report reports reported reporting rp advises advised says said".split())
# the call-taker's boilerplate in Chinese (matched after traditional → simplified; the longest first), removed before
# the bigrams are taken so that it neither counts nor joins the words around it into a bigram
_CALL_PREFIX = re.compile("来电人反映|来电人称|来电反映|来电称|市民反映|群众反映|来电人")


def terms(text: str) -> frozenset[str]:
    """A text's terms for comparison: the character bigrams of each run of Chinese (a lone character as itself),
    after traditional → simplified and without the call-taker's phrases (来电人反映, 市民反映, …), and the stemmed
    words of other scripts (two letters or more) that are not function words, contraction fragments or call-taking
    words (caller, states, reports, …). A set: a word said twice does not make another report that says it once more
    similar."""
    text = _CALL_PREFIX.sub(" ", to_simplified(unicodedata.normalize("NFKC", text).casefold()))
    out: set[str] = set()
    for run in _HAN.findall(text):
        out.update([run] if len(run) < 2 else (run[i:i + 2] for i in range(len(run) - 1)))
    out.update(stem(word) for word in _WORD.findall(_HAN.sub(" ", text))
               if len(word) > 1 and word not in _FUNCTION_WORDS)
    return frozenset(out)


@dataclass(frozen=True)
class TextProfile:
    """A text's terms (:func:`terms`), computed once per text."""

    terms: frozenset[str]

    def similarity(self, other: TextProfile) -> float:
        """Cosine of the two term sets: shared terms / sqrt(|a| · |b|)."""
        if not self.terms or not other.terms:
            return 0.0
        return len(self.terms & other.terms) / math.sqrt(len(self.terms) * len(other.terms))


@lru_cache(maxsize=4096)  # recent incidents are compared with every new report at their place: profile them once
def profile(text: str) -> TextProfile:
    return TextProfile(terms(text))


def similarity(a: str, b: str) -> float:
    """Cosine similarity of the two texts' terms (:func:`terms`), 0 (nothing shared) … 1 (the same terms)."""
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

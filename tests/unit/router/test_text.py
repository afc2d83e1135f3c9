"""The engine's text helpers: asides (clauses that are not the matter)."""

from __future__ import annotations

import pytest

from router.engine.text import asides, normalise, without_asides


@pytest.mark.parametrize(("text", "aside"), [
    ("The bins were missed again. Maybe someone stole the lids, they're gone too.", "maybe someone stole the lids,"),
    ("I called the police last year about a burglary, but today it's the street light",
     "i called the police last year about a burglary,"),
    ("來電人反映：垃圾桶蓋子不見了，可能被人偷走，請處理", "可能被人偷走,"),
    ("去年我报过警，不过今天是说路灯坏了", "去年我报过警,"),
])
def test_a_guessed_theft_or_a_past_police_contact_is_an_aside(text: str, aside: str) -> None:
    normalised = normalise(text)
    found = asides(normalised)
    assert [c.strip() for c in found] == [aside]
    rest = without_asides(normalised, found)
    assert rest is not None and aside not in rest


@pytest.mark.parametrize("text", [
    "I think my phone was stolen at the gym this morning",  # a theft, not a guess about someone
    "My parcel arrived open and the cosmetics are missing, maybe stolen",  # nobody guessed at
    "The police are here now and the man is still shouting",  # not in the past
    "我的电动车被偷了",
])
def test_the_matter_itself_is_no_aside(text: str) -> None:
    assert asides(normalise(text)) == []


def test_nothing_left_to_decide_on_is_none() -> None:
    normalised = normalise("Maybe someone stole it.")
    assert without_asides(normalised, asides(normalised)) is None

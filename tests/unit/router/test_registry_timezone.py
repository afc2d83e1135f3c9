"""Both classifiers take presence (the heating season) from the city's calendar day of the instant, whatever offset
the instant is written with: 2026-03-31T20:00:00Z is 1 April in Shanghai, out of season."""

from __future__ import annotations

from datetime import datetime

import pytest

from router.engine import RoutingEngine
from router.routing.classifier import Classifier, KeywordClassifier
from shared.registry import load_registry

TEXT = "no heat in apt, radiators cold"


@pytest.fixture(scope="module", params=["keywords", "engine"])
def classifier(request: pytest.FixtureRequest) -> Classifier:
    registry = load_registry()
    return KeywordClassifier(registry) if request.param == "keywords" else RoutingEngine(registry)


@pytest.mark.parametrize(("at", "lead"), [
    ("2026-03-31T20:00:00Z", "housing"), ("2026-04-01T04:00:00+08:00", "housing"),
    ("2026-03-31T15:00:00Z", "heating"), ("2026-03-31T23:00:00+08:00", "heating"),
    ("2026-10-31T17:00:00Z", "heating"), ("2026-11-01T01:00:00+08:00", "heating"),
])
def test_the_season_follows_the_city_day_of_the_instant(classifier: Classifier, at: str, lead: str) -> None:
    decision = classifier.classify(TEXT, at=datetime.fromisoformat(at))
    assert decision.lead == lead, decision.explanation
    assert ("heating" in decision.departments) is (lead == "heating")

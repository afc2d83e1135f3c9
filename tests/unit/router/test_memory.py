"""The model's memory (router.engine.memory): nearest training reports, their share of police matters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from router.engine.combiner import RoutingEngine
from router.engine.memory import Memory, build
from router.engine.model import RoutingModel
from router.engine.text import normalise
from shared.registry import load_registry

AT = datetime(2025, 12, 10, 9, tzinfo=UTC)


def _clusters(rng: np.random.Generator, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Activations around four directions; police matters around the first two only."""
    centres = np.eye(8, dtype=np.float32)[:4] * 5
    which = rng.integers(0, 4, n)
    vectors = np.maximum(centres[which] + rng.normal(0, 0.5, (n, 8)).astype(np.float32), 0)
    return vectors, which < 2


def test_the_share_of_police_matters_among_the_nearest_reports() -> None:
    rng = np.random.default_rng(7)
    vectors, police = _clusters(rng)
    memory = build(vectors, police, k=20, cells=4, probe=4, seed=1)
    assert len(memory) == len(vectors)
    near_police, near_other = np.eye(8)[0] * 3, np.eye(8)[3] * 3
    share, counted = memory.police_share(near_police)
    assert share > 0.95 and counted == 20
    share, counted = memory.police_share(near_other)
    assert share < 0.05 and counted == 20
    # halfway between a police and a non-police direction: a mixed neighbourhood
    share, _ = memory.police_share(np.eye(8)[1] + np.eye(8)[2])
    assert 0.1 < share < 0.9
    # nothing to compare: no estimate
    assert memory.police_share(np.zeros(8)) is None


def test_searching_a_few_cells_finds_what_searching_all_finds() -> None:
    rng = np.random.default_rng(3)
    vectors, police = _clusters(rng, 2000)
    approximate = build(vectors, police, k=30, cells=16, probe=6, seed=5)
    exact = build(vectors, police, k=30, cells=1, probe=1, seed=5)
    queries = np.maximum(rng.normal(0, 1, (200, 8)), 0).astype(np.float32)
    a = np.array([approximate.police_share(q)[0] for q in queries if q.any()])
    e = np.array([exact.police_share(q)[0] for q in queries if q.any()])
    assert np.mean(np.abs(a - e)) < 0.02


def test_reports_without_activations_are_left_out_and_building_is_deterministic() -> None:
    rng = np.random.default_rng(11)
    vectors, police = _clusters(rng)
    vectors[:10] = 0
    first = build(vectors, police, k=10, cells=8, probe=3, seed=2)
    second = build(vectors, police, k=10, cells=8, probe=3, seed=2)
    assert len(first) == len(vectors) - 10
    for name, array in first.arrays().items():
        assert np.array_equal(array, second.arrays()[name]), name


def test_the_memory_loaded_from_the_artifact_is_the_memory_built() -> None:
    rng = np.random.default_rng(5)
    vectors, police = _clusters(rng)
    built = build(vectors, police, k=15, cells=6, probe=3, seed=4)
    loaded = Memory.from_arrays(built.arrays())
    for name in ("vectors", "police", "centres", "starts"):
        assert getattr(loaded, name).dtype == getattr(built, name).dtype, name
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name
    assert (loaded.k, loaded.probe) == (built.k, built.probe)
    for query in np.maximum(rng.normal(0, 1, (50, 8)), 0):
        assert loaded.police_share(query) == built.police_share(query)


def test_a_memory_needs_neighbours_to_count_and_cells_to_search() -> None:
    vectors, police = _clusters(np.random.default_rng(1), 50)
    for bad in ({"k": 0}, {"probe": 0}, {"cells": 0}):
        with pytest.raises(ValueError):
            build(vectors, police, **{"k": 5, "cells": 2, "probe": 1, **bad}, seed=0)
    with pytest.raises(ValueError):  # nothing to remember
        build(np.zeros_like(vectors), police, k=5, cells=2, probe=1, seed=0)


def test_the_shipped_artifact_carries_its_memory(tmp_path: Path) -> None:
    model = RoutingModel.load()
    # every training report the network has activations for, in the cells the metadata records
    assert model.memory is not None and len(model.memory) == model.meta["memory"]["reports"]
    assert 0.99 * model.meta["reports"] <= len(model.memory) <= model.meta["reports"]
    assert len(model.memory.centres) == model.meta["memory"]["cells"]
    text = normalise("someone keeps taking money from my mother's account")
    prediction = model.predict(text)
    assert prediction.memory is not None and prediction.memory[1] == model.memory.k
    model.save(tmp_path / "copy.npz")
    assert RoutingModel.load(tmp_path / "copy.npz").predict(text) == prediction
    # a text of which the model knows no feature has only the biases' activations: no neighbours worth asking
    assert model.predict(normalise("Здравствуйте, это звонок")).memory is None


def test_the_combiner_blends_the_memory_into_the_police_decision() -> None:
    registry = load_registry()
    model = RoutingModel.load()
    # near the network's threshold beside a sure sanitation lead: the network says police, its nearest training
    # reports do not, and the blend leaves the police question to triage (police informed meanwhile)
    text = "toilets in the park still locked on a sunny saturday, people using the bushes"
    blended = RoutingEngine(registry, model).classify(text, at=AT)
    assert blended.lead == "sanitation" and not blended.police
    assert blended.needs_review and "police" in blended.dispatch_while_review
    assert "nearest training reports" in blended.explanation
    alone = RoutingEngine(registry, model.with_memory(None)).classify(text, at=AT)
    assert alone.police and "nearest training reports" not in alone.explanation
    # were every neighbour a police matter, the memory's weight alone would make a street light one
    light = "The street light outside 4 Mill Lane has been flickering all night"
    assert not RoutingEngine(registry, model).classify(light, at=AT).police
    everyone = replace(model.memory, police=np.ones_like(model.memory.police))
    assert RoutingEngine(registry, model.with_memory(everyone)).classify(light, at=AT).police

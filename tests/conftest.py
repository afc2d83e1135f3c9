"""Fixtures shared by every test: a real Tansu broker (one per session) and real databases (SQLite and
PostgreSQL, each test on its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devtools.tansu import TansuBroker, free_port
from tests.support import database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    async with database(db_kind, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """One real Tansu broker for the whole session (consumer-group joins are slow; start them once)."""
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    tansu = TansuBroker(free_port(), log_file=log)
    tansu.start()
    yield tansu
    tansu.stop()



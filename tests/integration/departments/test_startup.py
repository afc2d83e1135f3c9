"""Which departments an instance serves is checked against the registry before it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from departments.app import create_app
from departments.settings import DepartmentsSettings

from .conftest import UNUSED_BROKER


def settings(tmp_path: Path, serve: str) -> DepartmentsSettings:
    return DepartmentsSettings(serve=serve, env="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/d.db",
                               auth_database_url=f"sqlite+aiosqlite:///{tmp_path}/identity.db",
                               kafka_bootstrap_servers=UNUSED_BROKER)


async def test_an_unknown_department_code_stops_the_service_at_start(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, "water,atlantis"))
    with pytest.raises(ValueError, match="atlantis"):
        async with app.router.lifespan_context(app):
            pass


async def test_an_instance_serves_the_departments_it_is_told_to(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, "water,gas"))
    async with app.router.lifespan_context(app):
        assert app.state.served_departments == ["water", "gas"]
        assert app.state.runtime.consumer is not None

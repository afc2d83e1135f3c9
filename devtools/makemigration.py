"""Autogenerate an Alembic revision for one database from its models (developer tool).

    python -m devtools.makemigration identity "create api keys"
    python -m devtools.makemigration intake "create reports"
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
from pathlib import Path

from alembic import command

from shared.db import _alembic_config, create_engine, migrate

TARGETS = {
    "identity": ("shared.identity.store", "MIGRATIONS"),
    "intake": ("intake.db", "MIGRATIONS"),
    "router": ("router.db", "MIGRATIONS"),
    "departments": ("departments.db", "MIGRATIONS"),
}


async def _main(target: str, message: str) -> None:
    module, attr = TARGETS[target]
    location: Path = getattr(importlib.import_module(module), attr)
    (location / "versions").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/scratch.db"
        engine = create_engine(url)
        await migrate(engine, location, lock_id=0)  # bring the scratch database to head first
        cfg = _alembic_config(location, url)

        def _revision(connection):  # type: ignore[no-untyped-def]
            cfg.attributes["connection"] = connection
            command.revision(cfg, message=message, autogenerate=True)

        async with engine.begin() as conn:
            await conn.run_sync(_revision)
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2]))

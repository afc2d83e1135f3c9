"""The whole suite as its users meet it: a real Tansu broker and the three services as separate processes (SQLite
files in a temporary directory), started once for the e2e tests and driven over HTTP and Kafka."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from devtools.suite import ServiceProcess, service_env
from devtools.tansu import TansuBroker, free_port
from shared.identity import IdentityStore
from shared.registry import load_registry

T = TypeVar("T")
NAMES = ("intake", "router", "departments")


@dataclass
class Suite:
    broker: TansuBroker
    services: dict[str, ServiceProcess]
    keys: dict[str, Any] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.services[name].url

    def headers(self, role: str, department: str | None = None) -> dict[str, str]:
        if department is not None:
            key = self.keys["supervisors" if role == "department_supervisor" else "departments"][department]
        else:
            key = self.keys[role]
        return {"Authorization": f"Bearer {key}"}

    def restart(self, name: str) -> None:
        svc = self.services[name]
        svc.start()
        svc.wait_healthy()


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 60, what: str = "condition"
                     ) -> T:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    var = tmp_path_factory.mktemp("suite")
    broker = TansuBroker(free_port(), log_file=var / "tansu.log")
    broker.start()
    auth_url = f"sqlite+aiosqlite:///{var}/identity.db"
    base = dict(os.environ)
    base.update({"LINKAGE_ENV": "test", "LINKAGE_REDELIVERY_AFTER_S": "2", "LINKAGE_KAFKA_FETCH_MAX_WAIT_MS": "20",
                 "LINKAGE_LOG_LEVEL": "INFO"})
    services = {name: ServiceProcess(name, free_port(), service_env(
        name, 0, bootstrap=broker.bootstrap, var_dir=var, auth_url=auth_url, base=base), log_file=var / f"{name}.log")
        for name in NAMES}
    for svc in services.values():  # the port was chosen after the env was built
        svc.env[f"LINKAGE_{svc.name.upper()}_PORT"] = str(svc.port)

    async def make_keys() -> dict[str, Any]:
        store = IdentityStore(auth_url)
        await store.migrate()
        keys: dict[str, Any] = {"departments": {}, "supervisors": {}}
        for role in ("call_centre", "centre_operator", "admin"):
            keys[role] = (await store.create_key(name=role, role=role)).secret
        for code in load_registry().codes():
            keys["departments"][code] = (await store.create_key(
                name=f"{code} desk", role="department_staff", department=code)).secret
        await store.close()
        return keys

    keys = asyncio.run(make_keys())
    try:
        for svc in services.values():
            svc.start()
        for svc in services.values():
            svc.wait_healthy()
        yield Suite(broker, services, keys)
    finally:
        for svc in services.values():
            svc.stop()
        broker.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client

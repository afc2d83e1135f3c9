"""Which departments an instance serves: `LINKAGE_DEPARTMENTS_SERVE`, checked against the registry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from departments import consumers
from departments.settings import DepartmentsSettings
from shared.registry import load_registry


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return load_registry()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LINKAGE_DEPARTMENTS_SERVE", "LINKAGE_DEPARTMENTS_PORT", "LINKAGE_DEPARTMENTS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = DepartmentsSettings()
    assert (settings.service_name, settings.port, settings.serve, settings.serve_codes) == ("departments", 8003,
                                                                                            "all", None)
    assert settings.database_url == "sqlite+aiosqlite:///var/departments.db"


def test_serving_all_consumes_every_registry_department(registry) -> None:  # type: ignore[no-untyped-def]
    settings = DepartmentsSettings(serve="all")
    # every ticket is written here: no need to read other departments' states back from tickets.events
    every = [f"dept.{c}" for c in registry.codes()] + ["tickets.receipts", "reports.feedback"]
    assert consumers.topics(registry, settings.served(registry)) == every
    assert consumers.topics(registry) == every


def test_a_comma_separated_list_is_parsed_from_the_environment(monkeypatch: pytest.MonkeyPatch, registry) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LINKAGE_DEPARTMENTS_SERVE", " water, power ,gas,water ")
    settings = DepartmentsSettings()
    assert settings.serve_codes == ("water", "power", "gas")
    assert consumers.topics(registry, settings.served(registry)) == ["dept.water", "dept.power", "dept.gas",
                                                                      "tickets.receipts", "tickets.events", "reports.feedback"]


def test_an_unknown_department_is_refused_naming_it(registry) -> None:  # type: ignore[no-untyped-def]
    settings = DepartmentsSettings(serve="water,atlantis")
    with pytest.raises(ValueError, match="atlantis"):
        settings.served(registry)


@pytest.mark.parametrize("value", ["", "water,,gas", "Water;gas", "dept.water"])
def test_malformed_values_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        DepartmentsSettings(serve=value)


def test_the_sla_scale_defaults_to_one_and_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError
    monkeypatch.delenv("LINKAGE_SLA_SCALE", raising=False)
    assert DepartmentsSettings().sla_scale == 1.0
    monkeypatch.setenv("LINKAGE_SLA_SCALE", "0.01")
    assert DepartmentsSettings().sla_scale == 0.01
    for bad in ("0", "-1", "fast"):
        monkeypatch.setenv("LINKAGE_SLA_SCALE", bad)
        with pytest.raises(ValidationError):
            DepartmentsSettings()


def test_the_fetch_wait_is_the_departments_own_then_the_common_one_then_500(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LINKAGE_DEPARTMENTS_KAFKA_FETCH_MAX_WAIT_MS", "LINKAGE_KAFKA_FETCH_MAX_WAIT_MS"):
        monkeypatch.delenv(name, raising=False)
    assert DepartmentsSettings().kafka_fetch_max_wait_ms == 500
    monkeypatch.setenv("LINKAGE_KAFKA_FETCH_MAX_WAIT_MS", "20")  # e.g. the e2e tests set it for every service
    assert DepartmentsSettings().kafka_fetch_max_wait_ms == 20
    monkeypatch.setenv("LINKAGE_DEPARTMENTS_KAFKA_FETCH_MAX_WAIT_MS", "300")
    assert DepartmentsSettings().kafka_fetch_max_wait_ms == 300
    monkeypatch.setenv("LINKAGE_DEPARTMENTS_KAFKA_FETCH_MAX_WAIT_MS", "0")
    with pytest.raises(ValidationError):
        DepartmentsSettings()

"""The department registry: the default file, presence modes, and how a bad edit is reported."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from shared.registry import (
    DEFAULT_REGISTRY_FILE, Department, Registry, RegistryError, UnknownDepartment, load_registry,
)

# The codes of /shared/departments.md: stable identifiers that name Kafka topics and appear in every event.
DOCUMENTED_CODES = [
    "police", "fire", "ems", "urban_management", "sanitation", "water", "power", "gas", "heating", "housing",
    "environment", "market_regulation", "labor", "mediation", "civil_affairs", "transport", "gardens", "health",
    "education", "emergency_management", "grid",
]

JULY = datetime(2025, 7, 15, 12, tzinfo=UTC)
DECEMBER = datetime(2025, 12, 15, 12, tzinfo=UTC)

MINIMAL = """
[[departments]]
code = "police"
name_zh = "公安"
name_en = "Police"
mode = "permanent"
keywords_en = ["theft"]

[[departments]]
code = "grid"
name_zh = "网格"
name_en = "Grid"
mode = "permanent"
"""


def write(tmp_path: Path, extra: str, base: str = MINIMAL) -> Path:
    path = tmp_path / "departments.toml"
    path.write_text(textwrap.dedent(base) + textwrap.dedent(extra), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def test_default_registry_has_every_documented_department_in_order(registry: Registry) -> None:
    assert registry.codes() == DOCUMENTED_CODES
    assert load_registry(DEFAULT_REGISTRY_FILE).codes() == DOCUMENTED_CODES


def test_every_default_department_has_names_and_routing_terms(registry: Registry) -> None:
    for department in registry:
        assert department.name_zh and department.name_en
        assert department.keywords_zh and department.keywords_en, department.code
        assert not department.sla, "SLA overrides are opt-in"


def test_a_joint_rule_without_a_lead_only_adds_its_assisting_departments(registry: Registry) -> None:
    [rule] = [r for r in registry.joint_rules if r.name == "a crime being committed beside another matter"]
    assert rule.lead is None and rule.assisting == ("police",)


def test_default_priority_and_joint_rules_are_loaded(registry: Registry) -> None:
    rules = registry.priority_rules
    assert rules.p1 and rules.p2 and rules.p4
    assert {(j.lead, j.assisting) for j in registry.joint_rules} >= {
        ("police", ("ems",)), ("gas", ("fire",)), ("ems", ("civil_affairs",)), ("ems", ("market_regulation",))}


def test_kubernetes_configmap_carries_the_bundled_registry() -> None:
    """deploy/kubernetes/configmap.yaml ships a copy of the registry; `deploy/validate.sh --sync-registry` renews it."""
    manifest = DEFAULT_REGISTRY_FILE.parents[2] / "deploy" / "kubernetes" / "configmap.yaml"
    copy = next(doc["data"]["departments.toml"] for doc in yaml.safe_load_all(manifest.read_text(encoding="utf-8"))
                if doc["metadata"]["name"] == "linkage-registry")
    assert copy == DEFAULT_REGISTRY_FILE.read_text(encoding="utf-8"), (
        "stale registry in the ConfigMap: run `deploy/validate.sh --sync-registry`")


def test_heating_is_seasonal_over_new_year_with_housing_as_fallback(registry: Registry) -> None:
    heating = registry.get("heating")
    assert (heating.mode, heating.season, heating.fallback) == ("seasonal", ("11-01", "03-31"), "housing")
    assert registry.resolve("heating", DECEMBER) == "heating"
    assert registry.resolve("heating", JULY) == "housing"
    assert not registry.is_routable("heating", JULY)


@pytest.mark.parametrize(("day", "in_season"), [
    ((10, 31), False), ((11, 1), True), ((1, 1), True), ((2, 29), True), ((3, 31), True), ((4, 1), False)])
def test_season_bounds_are_inclusive(registry: Registry, day: tuple[int, int], in_season: bool) -> None:
    assert registry.get("heating").in_season(datetime(2024, *day, 23, 59)) is in_season


def test_permanent_departments_are_always_routable(registry: Registry) -> None:
    assert all(registry.is_routable(code, JULY) for code in registry.codes() if code != "heating")
    assert registry.resolve("police", JULY) == "police"


def test_unknown_code_raises_unknown_department(registry: Registry) -> None:
    assert "gass" not in registry
    with pytest.raises(UnknownDepartment, match="gass"):
        registry.get("gass")
    with pytest.raises(KeyError):
        registry.is_routable("gass", JULY)


def test_temporary_department_is_routable_only_while_switched_on(tmp_path: Path) -> None:
    registry = load_registry(write(tmp_path, """
        [[departments]]
        code = "event_security"
        name_zh = "活动安保"
        name_en = "Event security"
        mode = "temporary"
        fallback = "police"
        keywords_en = ["concert"]

        [[departments]]
        code = "flood_desk"
        name_zh = "防汛"
        name_en = "Flood desk"
        mode = "temporary"
        enabled_by_default = true
        """))
    assert registry.resolve("event_security", JULY) == "police"
    assert registry.resolve("event_security", JULY, frozenset({"event_security"})) == "event_security"
    assert registry.is_routable("flood_desk", JULY)


def test_fallback_cycle_ends_at_grid_instead_of_looping(tmp_path: Path) -> None:
    registry = load_registry(write(tmp_path, """
        [[departments]]
        code = "alpha"
        name_zh = "甲"
        name_en = "Alpha"
        mode = "temporary"
        fallback = "beta"

        [[departments]]
        code = "beta"
        name_zh = "乙"
        name_en = "Beta"
        mode = "temporary"
        fallback = "alpha"
        """))
    assert registry.resolve("alpha", JULY) == "grid"
    assert registry.resolve("alpha", JULY, frozenset({"beta"})) == "beta"


def test_sla_overrides_are_read_in_seconds(tmp_path: Path) -> None:
    registry = load_registry(write(tmp_path, """
        [[departments]]
        code = "fire"
        name_zh = "消防"
        name_en = "Fire"
        mode = "permanent"
        [departments.sla.P1]
        acknowledge = 30
        start_handling = 120
        """))
    assert registry.get("fire").sla == {"P1": {"acknowledge": 30, "start_handling": 120}}
    assert registry.get("police").sla == {}


@pytest.mark.parametrize(("extra", "names"), [
    ("""
     [[departments]]
     code = "police"
     name_zh = "重复"
     name_en = "Duplicate"
     mode = "permanent"
     """, ["'police'", "code", "duplicate"]),
    ("""
     [[departments]]
     code = "Water-Dept"
     name_zh = "水"
     name_en = "Water"
     mode = "permanent"
     """, ["'Water-Dept'", "code"]),
    ("""
     [[departments]]
     code = "heating"
     name_zh = "供热"
     name_en = "Heating"
     mode = "seasonal"
     fallback = "housing"
     season_start = "11-01"
     season_end = "03-31"
     """, ["'heating'", "fallback", "'housing'"]),
    ("""
     [[departments]]
     code = "heating"
     name_zh = "供热"
     name_en = "Heating"
     mode = "seasonal"
     fallback = "grid"
     season_start = "11-1"
     season_end = "03-31"
     """, ["'heating'", "season_start", "MM-DD"]),
    ("""
     [[departments]]
     code = "heating"
     name_zh = "供热"
     name_en = "Heating"
     mode = "seasonal"
     fallback = "grid"
     season_start = "02-30"
     season_end = "03-31"
     """, ["'heating'", "season_start"]),
    ("""
     [[departments]]
     code = "heating"
     name_zh = "供热"
     name_en = "Heating"
     mode = "seasonal"
     season_start = "11-01"
     season_end = "03-31"
     """, ["'heating'", "fallback"]),
    ("""
     [[departments]]
     code = "water"
     name_zh = "水"
     name_en = "Water"
     mode = "permanent"
     keyword_zh = ["停水"]
     """, ["'water'", "keyword_zh"]),
    ("""
     [[departments]]
     code = "water"
     name_zh = "水"
     name_en = "Water"
     mode = "sometimes"
     """, ["'water'", "mode"]),
    ("""
     [[joint]]
     name = "crash"
     when_all = [["crash"]]
     lead = "police"
     assisting = ["ambulance"]
     """, ["joint rule 'crash'", "assisting", "'ambulance'"]),
    ("""
     [[joint]]
     name = "nothing to do"
     when_all = [["crash"]]
     """, ["joint rule 'nothing to do'", "'lead'", "'assisting'"]),
    ("""
     [priority]
     p1_en = "fire"
     """, ["[priority]", "p1_en"]),
])
def test_invalid_file_is_rejected_naming_department_and_field(tmp_path: Path, extra: str, names: list[str]) -> None:
    with pytest.raises(RegistryError) as error:
        load_registry(write(tmp_path, extra))
    message = str(error.value)
    assert str(tmp_path) in message
    for name in names:
        assert name in message


@pytest.mark.parametrize("missing", ["police", "grid"])
def test_police_and_grid_are_required(tmp_path: Path, missing: str) -> None:
    kept = "grid" if missing == "police" else "police"
    path = write(tmp_path, f"""
        [[departments]]
        code = "{kept}"
        name_zh = "留"
        name_en = "Kept"
        mode = "permanent"
        """, base="")
    with pytest.raises(RegistryError, match=f"'{missing}' is required"):
        load_registry(path)


def test_grid_must_be_permanent(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"'grid'.*mode.*permanent"):
        load_registry(write(tmp_path, "", base=MINIMAL.replace('name_en = "Grid"\nmode = "permanent"',
                                                               'name_en = "Grid"\nmode = "temporary"')))


def test_unreadable_or_malformed_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "absent.toml")
    with pytest.raises(RegistryError, match="not valid TOML"):
        load_registry(write(tmp_path, "[[departments]\n"))


def test_department_is_a_value() -> None:
    a = Department(code="x1", name_zh="甲", name_en="X", mode="permanent")
    assert a == Department(code="x1", name_zh="甲", name_en="X", mode="permanent")
    assert hash(a) == hash(Department(code="x1", name_zh="甲", name_en="X", mode="permanent"))


# --- the city's time zone: seasons are its calendar days, whatever offset a moment is written with ---------------

HEATING_SEASON = """
[[departments]]
code = "housing"
name_zh = "住房"
name_en = "Housing"
mode = "permanent"

[[departments]]
code = "heating"
name_zh = "供热"
name_en = "Heating"
mode = "seasonal"
fallback = "housing"
season_start = "11-01"
season_end = "03-31"
"""


def test_the_default_registry_keeps_the_city_calendar_of_shanghai(registry: Registry) -> None:
    assert str(registry.timezone) == "Asia/Shanghai"
    assert all(str(d.timezone) == "Asia/Shanghai" for d in registry)


@pytest.mark.parametrize(("at", "routes_to"), [
    ("2026-03-31T20:00:00Z", "housing"), ("2026-04-01T04:00:00+08:00", "housing"),  # 1 April in Shanghai
    ("2026-03-31T23:00:00-05:00", "housing"),  # 1 April 12:00 in Shanghai
    ("2026-03-31T15:59:59Z", "heating"), ("2026-03-31T23:59:59+08:00", "heating"),  # still 31 March there
    ("2026-10-31T16:00:00Z", "heating"), ("2026-10-31T15:59:59Z", "housing"),  # 1 November begins at 16:00 UTC
])
def test_a_season_depends_on_the_instant_not_on_how_it_is_written(registry: Registry, at: str, routes_to: str
                                                                 ) -> None:
    moment = datetime.fromisoformat(at)
    assert registry.resolve("heating", moment) == routes_to
    assert registry.get("heating").in_season(moment) is (routes_to == "heating")


def test_a_naive_moment_is_taken_as_city_time() -> None:
    department = load_registry().get("heating")
    assert department.in_season(datetime(2026, 3, 31, 23, 59)) and not department.in_season(datetime(2026, 4, 1))


def test_month_day_is_the_city_day(registry: Registry) -> None:
    assert registry.month_day(datetime(2026, 3, 31, 20, tzinfo=UTC)) == (4, 1)
    assert registry.month_day(datetime(2026, 3, 31, 20)) == (3, 31)  # naive: already city time


def zoned(tmp_path: Path, top: str) -> Path:
    """A registry file with ``top`` as its top-level keys (before the first table) and a heating season."""
    return write(tmp_path, HEATING_SEASON, base=top + MINIMAL)


def test_the_registry_file_names_the_city_time_zone(tmp_path: Path) -> None:
    registry = load_registry(zoned(tmp_path, 'timezone = "America/New_York"\n'))
    assert str(registry.timezone) == "America/New_York" and str(registry.get("heating").timezone) == "America/New_York"
    assert registry.resolve("heating", datetime.fromisoformat("2026-03-31T20:00:00Z")) == "heating"  # 16:00 there
    assert registry.resolve("heating", datetime.fromisoformat("2026-04-01T03:59:00Z")) == "heating"
    assert registry.resolve("heating", datetime.fromisoformat("2026-04-01T04:00:00Z")) == "housing"
    absent = load_registry(zoned(tmp_path, ""))
    assert str(absent.timezone) == "Asia/Shanghai"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "asia/shanghai", "+08:00", "", "../../etc/passwd", "Asia"])
def test_an_unknown_time_zone_stops_the_load_naming_the_field(tmp_path: Path, zone: str) -> None:
    with pytest.raises(RegistryError, match=r"field 'timezone': unknown time zone") as error:
        load_registry(zoned(tmp_path, f"timezone = {zone!r}\n"))
    assert str(tmp_path) in str(error.value)
    with pytest.raises(RegistryError, match="timezone"):
        load_registry(zoned(tmp_path, "timezone = 8\n"))

"""The department registry: which departments exist, when they can take reports, and the routing terms.

The registry is configuration, not code: ``departments.toml`` next to this module is the default, and operators
point ``LINKAGE_REGISTRY_FILE`` at their own copy to add, rename or retire departments. The file's header comment
documents its schema; :func:`load_registry` validates it and raises :class:`RegistryError` naming the department
(or rule) and the field at fault, so a bad edit stops a service at start-up instead of misrouting reports.

Presence modes (see ``/shared/departments.md``):

- ``permanent``: always routable;
- ``temporary``: routable while an operator has switched it on (``switched_on``) or when ``enabled_by_default``;
- ``seasonal``: routable inside its season window (month-day, may wrap over new year); outside it, its matters go
  to its ``fallback``. Seasons are days of the city's calendar: a moment is converted to the registry's ``timezone``
  (default ``Asia/Shanghai``) before its month-day is taken, so the season does not depend on the offset a client
  wrote (``2026-03-31T20:00:00Z`` and ``2026-04-01T04:00:00+08:00`` are both 1 April in Shanghai).

:meth:`Registry.resolve` follows fallbacks until it reaches a routable department. A chain that ends without one
(no fallback, or a cycle) ends at ``grid``, which must be permanent: it is the place for what nobody else can take.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

__all__ = [
    "CODE_PATTERN", "DEFAULT_REGISTRY_FILE", "DEFAULT_TIMEZONE", "FALLBACK_DEPARTMENT", "POLICE_DEPARTMENT",
    "PRIORITIES", "SLA_TARGETS", "CombinedPriorityRule", "Department", "JointRule", "Mode", "Priority",
    "PriorityRules", "Registry", "RegistryError", "UnknownDepartment", "city_time", "load_registry",
]

DEFAULT_REGISTRY_FILE: Path = Path(__file__).with_name("departments.toml")

Mode = Literal["permanent", "temporary", "seasonal"]
Priority = Literal["P1", "P2", "P3", "P4"]
SlaTarget = Literal["acknowledge", "start_handling", "resolve"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
SLA_TARGETS: tuple[SlaTarget, ...] = get_args(SlaTarget)

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
POLICE_DEPARTMENT = "police"
FALLBACK_DEPARTMENT = "grid"
_REQUIRED_PERMANENT = (POLICE_DEPARTMENT, FALLBACK_DEPARTMENT)
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
DEFAULT_TIMEZONE = "Asia/Shanghai"
_CITY = ZoneInfo(DEFAULT_TIMEZONE)


def city_time(at: datetime, timezone: ZoneInfo = _CITY) -> datetime:
    """``at`` on the city's clock: an aware moment converted to ``timezone``; a naive one is taken to be city time
    already (the API refuses naive date-times; the router's engine evaluates presence at a naive month-day)."""
    return at if at.tzinfo is None else at.astimezone(timezone)


class RegistryError(ValueError):
    """The registry file is missing, unreadable or invalid; the message names the department and field."""


class UnknownDepartment(KeyError):
    """A department code that is not in the registry."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"unknown department {self.code!r}"


# ---------------------------------------------------------------------------------------------------------------
# The registry as the rest of the suite sees it: frozen, validated, no I/O.
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str
    mode: Mode
    fallback: str | None = None
    season: tuple[str, str] | None = None  # ("MM-DD" start, "MM-DD" end), both inclusive; may wrap over new year
    enabled_by_default: bool = False
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    # Per-priority service-level overrides in seconds: {"P1": {"acknowledge": 60, ...}}; empty = centre defaults.
    sla: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    timezone: ZoneInfo = _CITY  # the city's (the registry's ``timezone``): its calendar days are the season's

    @property
    def keywords(self) -> tuple[str, ...]:
        return (*self.keywords_zh, *self.keywords_en)

    def in_season(self, at: datetime) -> bool:
        """Whether ``at``'s day in the city (see :func:`city_time`) falls inside the season; always true without a
        season."""
        if self.season is None:
            return True
        start, end = (_month_day(s) for s in self.season)
        local = city_time(at, self.timezone)
        today = (local.month, local.day)
        if start <= end:
            return start <= today <= end
        return today >= start or today <= end  # the window wraps over new year, e.g. 11-01 .. 03-31


@dataclass(frozen=True)
class CombinedPriorityRule:
    """Raises the priority to ``level`` when every group in ``when_all`` has at least one matching term."""

    name: str
    level: Priority
    when_all: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class PriorityRules:
    """Priority triggers: P1 beats P2; P4 markers count only when nothing is urgent; otherwise P3.

    Term tuples hold the Chinese terms first, then the English ones. A trigger term found inside an ``ignore``
    phrase (``fire hydrant``, ``工厂冒烟``) does not count, neither does one found in the exact word of an ignore
    term when the trigger only matched an inflection of it (``fired`` is not ``fire``).
    """

    p1: tuple[str, ...] = ()
    p2: tuple[str, ...] = ()
    p4: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    combined: tuple[CombinedPriorityRule, ...] = ()

    def terms(self, level: Priority) -> tuple[str, ...]:
        return {"P1": self.p1, "P2": self.p2, "P4": self.p4}.get(level, ())


@dataclass(frozen=True)
class JointRule:
    """Joint handling (联动处置): when every group of ``when_all`` has a matching term, ``lead`` leads and
    ``assisting`` assist; ``priority`` (optional) is the least priority the report gets. A rule without a lead only
    adds its assisting departments, whoever leads ("a crime being committed beside another matter" adds police)."""

    name: str
    when_all: tuple[tuple[str, ...], ...]
    lead: str | None = None  # None: the rule only adds ``assisting`` to whatever leads
    assisting: tuple[str, ...] = ()
    priority: Priority | None = None


@dataclass(frozen=True)
class Registry:
    departments: Mapping[str, Department]  # in file order
    priority_rules: PriorityRules = field(default_factory=PriorityRules)
    joint_rules: tuple[JointRule, ...] = ()
    source: Path | None = field(default=None, compare=False)
    timezone: ZoneInfo = _CITY  # the city's time zone: seasons are its calendar days

    def month_day(self, at: datetime) -> tuple[int, int]:
        """``at``'s (month, day) in the city, the day presence depends on (see :func:`city_time`)."""
        local = city_time(at, self.timezone)
        return local.month, local.day

    def __contains__(self, code: object) -> bool:
        return code in self.departments

    def __iter__(self) -> Iterator[Department]:
        return iter(self.departments.values())

    def __len__(self) -> int:
        return len(self.departments)

    def get(self, code: str) -> Department:
        try:
            return self.departments[code]
        except KeyError:
            raise UnknownDepartment(code) from None

    def codes(self) -> list[str]:
        return list(self.departments)

    def is_routable(self, code: str, at: datetime, switched_on: frozenset[str] = frozenset()) -> bool:
        """Whether reports can go to ``code`` at ``at``: permanent always, seasonal inside its season, temporary
        while switched on (or when ``enabled_by_default``)."""
        department = self.get(code)
        if department.mode == "permanent":
            return True
        if department.mode == "seasonal":
            return department.in_season(at)
        return department.enabled_by_default or code in switched_on

    def resolve(self, code: str, at: datetime, switched_on: frozenset[str] = frozenset()) -> str:
        """The department that takes ``code``'s matters at ``at``: ``code`` itself when routable, else the first
        routable department along its fallback chain; ``grid`` when the chain ends or loops without one."""
        seen: set[str] = set()
        current: str | None = code
        while current is not None and current not in seen:
            if self.is_routable(current, at, switched_on):
                return current
            seen.add(current)
            current = self.get(current).fallback
        return FALLBACK_DEPARTMENT


def _month_day(value: str) -> tuple[int, int]:
    match = _MONTH_DAY.match(value)
    if match is None:
        raise ValueError(f"must be 'MM-DD', got {value!r}")
    month, day = int(match[1]), int(match[2])
    date(2000, month, day)  # a leap year, so 02-29 is a valid season boundary; raises ValueError otherwise
    return month, day


# ---------------------------------------------------------------------------------------------------------------
# The file as written by operators: strict pydantic models, so typos and wrong types are reported, not ignored.
# ---------------------------------------------------------------------------------------------------------------

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TermGroup = Annotated[list[Term], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DepartmentIn(_Strict):
    code: Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
    name_zh: Name
    name_en: Name
    mode: Mode
    fallback: str | None = None
    season_start: str | None = None
    season_end: str | None = None
    enabled_by_default: bool | None = None
    keywords_zh: list[Term] = []
    keywords_en: list[Term] = []
    sla: dict[Priority, dict[SlaTarget, Annotated[int, Field(gt=0)]]] = {}

    @field_validator("season_start", "season_end")
    @classmethod
    def _month_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                _month_day(value)
            except ValueError:
                raise ValueError(f"must be a valid 'MM-DD' day such as '11-01', got {value!r}") from None
        return value


class _CombinedIn(_Strict):
    name: Name
    level: Literal["P1", "P2"]
    when_all: Annotated[list[TermGroup], Field(min_length=1)]


class _PriorityIn(_Strict):
    p1_zh: list[Term] = []
    p1_en: list[Term] = []
    p2_zh: list[Term] = []
    p2_en: list[Term] = []
    p4_zh: list[Term] = []
    p4_en: list[Term] = []
    ignore_zh: list[Term] = []
    ignore_en: list[Term] = []
    combined: list[_CombinedIn] = []


class _JointIn(_Strict):
    name: Name
    when_all: Annotated[list[TermGroup], Field(min_length=1)]
    lead: str | None = None
    assisting: list[str] = []
    priority: Priority | None = None


class _FileIn(_Strict):
    schema_version: Literal[1] = 1
    timezone: str = DEFAULT_TIMEZONE
    departments: list[dict[str, Any]]  # each validated on its own, so errors can name the department
    priority: dict[str, Any] = {}
    joint: list[dict[str, Any]] = []


def _describe(error: ValidationError) -> str:
    parts = []
    for detail in error.errors():
        where = ".".join(str(p) for p in detail["loc"])
        parts.append(f"field '{where}': {detail['msg']}" if where else detail["msg"])
    return "; ".join(parts)


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and validate a registry file (default: the bundled ``departments.toml``)."""
    source = Path(path) if path is not None else DEFAULT_REGISTRY_FILE
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"{source}: cannot read the department registry: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{source}: not valid TOML: {exc}") from exc

    def fail(message: str) -> RegistryError:
        return RegistryError(f"{source}: {message}")

    try:
        document = _FileIn.model_validate(raw)
    except ValidationError as exc:
        raise fail(_describe(exc)) from None
    try:
        timezone = ZoneInfo(document.timezone)
    except (ValueError, OSError, LookupError):  # ZoneInfoNotFoundError is a KeyError; bad keys are ValueErrors
        raise fail(f"field 'timezone': unknown time zone {document.timezone!r}; expected an IANA name such as "
                   f"{DEFAULT_TIMEZONE!r}") from None

    departments: dict[str, Department] = {}
    for index, entry in enumerate(document.departments, start=1):
        label = f"department {entry.get('code')!r} (entry {index})" if "code" in entry else f"department entry {index}"
        try:
            parsed = _DepartmentIn.model_validate(entry)
        except ValidationError as exc:
            raise fail(f"{label}: {_describe(exc)}") from None
        label = f"department {parsed.code!r}"
        if parsed.code in departments:
            raise fail(f"{label} (entry {index}): field 'code': duplicate code, already used by entry "
                       f"{list(departments).index(parsed.code) + 1}")
        departments[parsed.code] = _department(parsed, label, fail, timezone)

    for code, department in departments.items():
        if department.fallback is not None and department.fallback not in departments:
            raise fail(f"department {code!r}: field 'fallback': unknown department {department.fallback!r}")
    for code in _REQUIRED_PERMANENT:
        if code not in departments:
            raise fail(f"department {code!r} is required (police matters and unplaceable reports go there) "
                       "but is missing")
        if departments[code].mode != "permanent":
            raise fail(f"department {code!r}: field 'mode': must be 'permanent', got {departments[code].mode!r}")

    try:
        priority_in = _PriorityIn.model_validate(document.priority)
    except ValidationError as exc:
        raise fail(f"[priority]: {_describe(exc)}") from None
    priority_rules = PriorityRules(
        p1=(*priority_in.p1_zh, *priority_in.p1_en), p2=(*priority_in.p2_zh, *priority_in.p2_en),
        p4=(*priority_in.p4_zh, *priority_in.p4_en), ignore=(*priority_in.ignore_zh, *priority_in.ignore_en),
        combined=tuple(CombinedPriorityRule(name=c.name, level=c.level, when_all=tuple(map(tuple, c.when_all)))
                       for c in priority_in.combined))

    joint_rules = []
    for index, entry in enumerate(document.joint, start=1):
        label = f"joint rule {entry.get('name')!r} (entry {index})" if "name" in entry else f"joint rule entry {index}"
        try:
            rule = _JointIn.model_validate(entry)
        except ValidationError as exc:
            raise fail(f"{label}: {_describe(exc)}") from None
        if rule.lead is None and not rule.assisting:
            raise fail(f"{label}: needs a 'lead', or 'assisting' departments to add wherever the report goes")
        named = [("assisting", code) for code in rule.assisting]
        if rule.lead is not None:
            named.insert(0, ("lead", rule.lead))
        for field_name, code in named:
            if code not in departments:
                raise fail(f"{label}: field '{field_name}': unknown department {code!r}")
        if rule.lead in rule.assisting or len(set(rule.assisting)) != len(rule.assisting):
            raise fail(f"{label}: field 'assisting': must not repeat a department or the lead")
        joint_rules.append(JointRule(name=rule.name, when_all=tuple(map(tuple, rule.when_all)), lead=rule.lead,
                                     assisting=tuple(rule.assisting), priority=rule.priority))

    return Registry(departments=MappingProxyType(departments), priority_rules=priority_rules,
                    joint_rules=tuple(joint_rules), source=source, timezone=timezone)


def _department(parsed: _DepartmentIn, label: str, fail: Any, timezone: ZoneInfo) -> Department:
    """Cross-field rules of one department (the shape was checked by pydantic)."""
    if parsed.mode == "seasonal":
        if parsed.season_start is None or parsed.season_end is None:
            raise fail(f"{label}: field 'season_start'/'season_end': a seasonal department needs both")
        if parsed.fallback is None:
            raise fail(f"{label}: field 'fallback': a seasonal department needs one (it takes reports out of season)")
    elif parsed.season_start is not None or parsed.season_end is not None:
        raise fail(f"{label}: field 'season_start'/'season_end': only a seasonal department has a season "
                   f"(mode is {parsed.mode!r})")
    if parsed.mode == "permanent" and parsed.fallback is not None:
        raise fail(f"{label}: field 'fallback': a permanent department is always routable and needs none")
    if parsed.fallback == parsed.code:
        raise fail(f"{label}: field 'fallback': a department cannot fall back to itself")
    if parsed.enabled_by_default is not None and parsed.mode != "temporary":
        raise fail(f"{label}: field 'enabled_by_default': only a temporary department is switched on or off "
                   f"(mode is {parsed.mode!r})")
    season = (parsed.season_start, parsed.season_end) if parsed.season_start and parsed.season_end else None
    sla: Mapping[str, Mapping[str, int]] = MappingProxyType(
        {level: MappingProxyType({str(k): v for k, v in targets.items()}) for level, targets in parsed.sla.items()})
    return Department(code=parsed.code, name_zh=parsed.name_zh, name_en=parsed.name_en, mode=parsed.mode,
                      fallback=parsed.fallback, season=season, enabled_by_default=bool(parsed.enabled_by_default),
                      keywords_zh=tuple(parsed.keywords_zh), keywords_en=tuple(parsed.keywords_en), sla=sla,
                      timezone=timezone)

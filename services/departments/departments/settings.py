from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

from departments.tickets.clocks import SlaPolicies
from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from shared.registry import Registry

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DepartmentsSettings(ServiceSettings):
    """Departments' settings: ``LINKAGE_DEPARTMENTS_DATABASE_URL``, ``LINKAGE_DEPARTMENTS_HOST``,
    ``LINKAGE_DEPARTMENTS_PORT``, ``LINKAGE_DEPARTMENTS_SERVE``, ``LINKAGE_DEPARTMENTS_ESCALATION_INTERVAL_S``,
    ``LINKAGE_DEPARTMENTS_ESCALATION_LEVEL2_AFTER_S``, ``LINKAGE_DEPARTMENTS_KAFKA_FETCH_MAX_WAIT_MS`` (else the
    common one; 500 by default) plus the common ``LINKAGE_*`` ones."""

    model_config = SettingsConfigDict(env_prefix="LINKAGE_DEPARTMENTS_", extra="ignore", populate_by_name=True)

    service_name: str = "departments"
    database_url: str = "sqlite+aiosqlite:///var/departments.db"
    port: int = 8003
    serve: str = Field(
        "all", description="Departments whose `dept.<code>` topics this instance consumes: `all`, or department "
                           "codes separated by commas (each must be in the registry).",
        examples=["all", "water,power,gas"])
    kafka_fetch_max_wait_ms: int = Field(
        500, ge=1, le=1000,
        validation_alias=AliasChoices("LINKAGE_DEPARTMENTS_KAFKA_FETCH_MAX_WAIT_MS", "LINKAGE_KAFKA_FETCH_MAX_WAIT_MS"),
        description="Upper bound on a consumer fetch, longer here than elsewhere (100 ms): the `dept.*` topics hold "
                    "most of the broker's record batches (every routing touches several), and Tansu's memory store "
                    "scans a partition's batches on every fetch that returns data, so this consumer's fetch rate "
                    "is what Tansu's cost grows with. A ticket half a second later is nothing to department staff; "
                    "the department topic itself gets the dispatch as before.")
    escalation_interval_s: float = Field(
        5.0, gt=0, le=3600, description="How often the escalation scheduler looks for tickets past a due time "
                                        "(not scaled by LINKAGE_SLA_SCALE).")
    escalation_level2_after_s: float = Field(
        600.0, gt=0, description="How long after a missed due time (level 1, the department's supervisors) a still "
                                 "unmet clock escalates to level 2 (the linkage centre); scaled by LINKAGE_SLA_SCALE.")

    @field_validator("serve")
    @classmethod
    def _serve_syntax(cls, value: str) -> str:
        value = value.strip().lower()
        if value == "all":
            return value
        codes = [c.strip() for c in value.split(",")]
        bad = [c for c in codes if not _CODE.match(c)]
        if bad or not codes:
            raise ValueError(f"must be `all` or department codes separated by commas; not codes: {bad}")
        return ",".join(dict.fromkeys(codes))

    @property
    def serve_codes(self) -> tuple[str, ...] | None:
        """The department codes named in ``serve``, or ``None`` for all of the registry's."""
        return None if self.serve == "all" else tuple(self.serve.split(","))

    def sla_policies(self, registry: Registry) -> SlaPolicies:
        return SlaPolicies.from_registry(registry, scale=self.sla_scale, level2_after_s=self.escalation_level2_after_s)

    def served(self, registry: Registry) -> list[str]:
        """The codes this instance serves, checked against the registry (``ValueError`` naming unknown codes)."""
        return served_departments(registry, self.serve_codes)


def served_departments(registry: Registry, codes: tuple[str, ...] | list[str] | None) -> list[str]:
    known = list(registry.codes())
    if codes is None:
        return known
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValueError(f"LINKAGE_DEPARTMENTS_SERVE names departments the registry does not have: "
                         f"{', '.join(unknown)} (known: {', '.join(known)})")
    return list(codes)

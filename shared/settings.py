"""Settings shared by every service, read from ``LINKAGE_*`` environment variables.

Each service subclasses :class:`ServiceSettings` with its own prefix (``LINKAGE_INTAKE_`` …) for the settings that are
its own (database URL, host, port); the settings below keep one name across all services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


VAR_DIR = Path("var")
DEFAULT_REGISTRY_FILE = Path(__file__).parent / "registry" / "departments.toml"


def _common(name: str) -> AliasChoices:
    return AliasChoices(f"LINKAGE_{name}")


class CommonSettings(BaseSettings):
    """The settings every process shares (services, the key CLI, the dev supervisor)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "linkage"
    env: Literal["development", "test", "production"] = Field(
        "development", validation_alias=_common("ENV"),
        description="`production` refuses SQLite and never creates development keys.",
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias=_common("KAFKA_BOOTSTRAP_SERVERS"))
    kafka_fetch_max_wait_ms: int = Field(
        100, ge=1, le=1000, validation_alias=_common("KAFKA_FETCH_MAX_WAIT_MS"),
        description="Upper bound on a consumer fetch; Tansu answers only when it runs out, so it is each hop's floor.",
    )
    registry_file: Path = Field(DEFAULT_REGISTRY_FILE, validation_alias=_common("REGISTRY_FILE"))
    auth_database_url: str = Field(
        f"sqlite+aiosqlite:///{VAR_DIR}/identity.db", validation_alias=_common("AUTH_DATABASE_URL")
    )
    log_level: str = Field("INFO", validation_alias=_common("LOG_LEVEL"))
    consumer_enabled: bool = Field(
        True, validation_alias=_common("CONSUMER_ENABLED"),
        description="False runs an HTTP-only instance (no Kafka consumer), e.g. extra API replicas.",
    )
    consumer_batch_size: int = Field(
        50, ge=1, le=1000, validation_alias=_common("CONSUMER_BATCH_SIZE"),
        description="Events handled per consumer transaction: larger batches cost less per event but hold the "
                    "database (SQLite: its one connection) longer, which HTTP requests then wait for.",
    )
    redelivery_after_s: float = Field(
        10.0, gt=0, validation_alias=_common("REDELIVERY_AFTER_S"),
        description="End-to-end confirmation: work not confirmed downstream after this long is sent again "
                    "(doubling per try, at most 10 minutes apart). Covers a broker that lost its data.",
    )
    outbox_poll_interval_s: float = Field(0.5, gt=0, validation_alias=_common("OUTBOX_POLL_INTERVAL_S"))
    outbox_linger_ms: float = Field(
        50.0, ge=0, le=1000, validation_alias=_common("OUTBOX_LINGER_MS"),
        description="Least time between two publishes of the outbox relay when commits wake it: after a quiet spell "
                    "a commit goes out at once; under load the commits of this interval go out together (fewer, "
                    "larger record batches: less CPU in every service and the broker, at most this much more "
                    "latency per hop).",
    )
    sla_scale: float = Field(
        1.0, gt=0, le=1000, validation_alias=_common("SLA_SCALE"),
        description="Multiplies every service-level interval (due times, the level-2 delay), for drills and tests: "
                    "0.01 turns a 1-minute clock into 0.6 s.",
    )

    @model_validator(mode="after")
    def _production_is_not_embedded(self) -> "CommonSettings":
        if self.env == "production":
            for name in ("database_url", "auth_database_url"):
                if str(getattr(self, name, "")).startswith("sqlite"):
                    raise ValueError(f"{name} must not be SQLite when LINKAGE_ENV=production")
        return self


class ServiceSettings(CommonSettings):
    """A service's settings: each service subclasses it with its own prefix (``LINKAGE_INTAKE_`` …)."""

    database_url: str = "sqlite+aiosqlite:///var/linkage.db"
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def consumer_group(self) -> str:
        return self.service_name

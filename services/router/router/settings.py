from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    """Router's settings: ``LINKAGE_ROUTER_DATABASE_URL``, ``LINKAGE_ROUTER_HOST``, ``LINKAGE_ROUTER_PORT``, the
    routing engine's ``LINKAGE_ROUTER_CLASSIFIER``, ``LINKAGE_ROUTER_MODEL_FILE``,
    ``LINKAGE_ROUTER_REVIEW_THRESHOLD`` and ``LINKAGE_ROUTER_POLICE_THRESHOLD``, plus the common ``LINKAGE_*``
    ones."""

    model_config = SettingsConfigDict(env_prefix="LINKAGE_ROUTER_", extra="ignore", populate_by_name=True)

    service_name: str = "router"
    database_url: str = "sqlite+aiosqlite:///var/router.db"
    port: int = 8002
    classifier: str = Field(
        "engine", pattern="^(engine|keywords)$",
        description="`engine`: rules + statistical model + combiner (default); `keywords`: the rules alone.")
    model_file: Path | None = Field(
        None, description="Routing model artifact (.npz with its .json); default: the one shipped in the package.")
    review_threshold: float = Field(
        0.5, ge=0, le=1, description="Decisions less confident than this go to the triage queue.")
    police_threshold: float = Field(
        0.2, gt=0, le=1, description="Model police-matter probability from which a report is a police matter.")

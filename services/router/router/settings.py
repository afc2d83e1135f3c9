from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    """Router's settings: ``LINKAGE_ROUTER_DATABASE_URL``, ``LINKAGE_ROUTER_HOST``, ``LINKAGE_ROUTER_PORT`` plus the
    common ``LINKAGE_*`` ones."""

    model_config = SettingsConfigDict(env_prefix="LINKAGE_ROUTER_", extra="ignore", populate_by_name=True)

    service_name: str = "router"
    database_url: str = "sqlite+aiosqlite:///var/router.db"
    port: int = 8002

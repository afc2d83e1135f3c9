from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Intake's settings: ``LINKAGE_INTAKE_DATABASE_URL``, ``LINKAGE_INTAKE_HOST``, ``LINKAGE_INTAKE_PORT`` plus the
    common ``LINKAGE_*`` ones."""

    model_config = SettingsConfigDict(env_prefix="LINKAGE_INTAKE_", extra="ignore", populate_by_name=True)

    service_name: str = "intake"
    database_url: str = "sqlite+aiosqlite:///var/intake.db"
    port: int = 8001

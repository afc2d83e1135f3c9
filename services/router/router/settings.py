from pydantic import Field
from pydantic_settings import SettingsConfigDict

from router.routing.duplicates import DuplicatePolicy
from shared.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    """Router's settings: ``LINKAGE_ROUTER_DATABASE_URL``, ``LINKAGE_ROUTER_HOST``, ``LINKAGE_ROUTER_PORT``, the
    duplicate-incident settings ``LINKAGE_ROUTER_DUPLICATE_*`` plus the common ``LINKAGE_*`` ones."""

    model_config = SettingsConfigDict(env_prefix="LINKAGE_ROUTER_", extra="ignore", populate_by_name=True)

    service_name: str = "router"
    database_url: str = "sqlite+aiosqlite:///var/router.db"
    port: int = 8002
    duplicate_detection: bool = Field(True, description="Link reports of the same incident to its first report")
    duplicate_window_s: float = Field(7200.0, gt=0, description="How far back (by receipt time) an open incident "
                                                                "can take another caller's report")
    duplicate_distance_m: float = Field(300.0, ge=0, description="Coordinates at most this far apart are the same "
                                                                 "place (else: same grid_id, or same address)")
    duplicate_min_similarity: float = Field(0.3, ge=0, le=1, description="Least text similarity (cosine of "
                                                                         "character bigrams) of the same incident")
    duplicate_max_candidates: int = Field(50, ge=1, le=1000, description="Most recent open incidents compared")

    @property
    def duplicate_policy(self) -> DuplicatePolicy | None:
        if not self.duplicate_detection:
            return None
        return DuplicatePolicy(window_s=self.duplicate_window_s, max_distance_m=self.duplicate_distance_m,
                               min_similarity=self.duplicate_min_similarity,
                               max_candidates=self.duplicate_max_candidates)

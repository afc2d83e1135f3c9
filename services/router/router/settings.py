from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from router.engine.combiner import EngineSettings
from router.routing.duplicates import DuplicatePolicy
from shared.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    """Router's settings: ``LINKAGE_ROUTER_DATABASE_URL``, ``LINKAGE_ROUTER_HOST``, ``LINKAGE_ROUTER_PORT``, the
    routing engine's ``LINKAGE_ROUTER_CLASSIFIER``, ``LINKAGE_ROUTER_MODEL_FILE``,
    ``LINKAGE_ROUTER_REVIEW_THRESHOLD`` and ``LINKAGE_ROUTER_POLICE_THRESHOLD``, the duplicate-incident settings
    ``LINKAGE_ROUTER_DUPLICATE_*``, plus the common ``LINKAGE_*`` ones."""

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
        EngineSettings.review_threshold, ge=0, le=1,
        description="Decisions less confident than this go to the triage queue.")
    police_threshold: float = Field(
        EngineSettings.police_threshold, gt=0, le=1,
        description="Police-matter probability (the network's blended with its memory's) from which a report "
                    "is a police matter.")
    duplicate_detection: bool = Field(True, description="Link reports of the same incident to its first report")
    duplicate_window_s: float = Field(7200.0, gt=0, description="How far back (by receipt time) an open incident "
                                                                "can take another caller's report")
    duplicate_distance_m: float = Field(300.0, ge=0, description="Coordinates at most this far apart are the same "
                                                                 "place (else: same grid_id, or same address)")
    duplicate_min_similarity: float = Field(0.3, ge=0, le=1, description="Least text similarity (cosine of "
                                                                         "their terms) of the same incident")
    duplicate_max_candidates: int = Field(50, ge=1, le=1000, description="Most recent open incidents compared")

    @property
    def duplicate_policy(self) -> DuplicatePolicy | None:
        if not self.duplicate_detection:
            return None
        return DuplicatePolicy(window_s=self.duplicate_window_s, max_distance_m=self.duplicate_distance_m,
                               min_similarity=self.duplicate_min_similarity,
                               max_candidates=self.duplicate_max_candidates)

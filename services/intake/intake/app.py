from __future__ import annotations


from fastapi import FastAPI

from intake import consumers
from intake.db import LOCK_ID, MIGRATIONS, DeadLetter, OutboxMessage, ProcessedEvent
from intake.reports.routes import router as reports_router
from intake.stats.routes import router as stats_router
from intake.settings import IntakeSettings
from shared.http import build_app, runtime_lifespan
from shared.messaging.redelivery import DownstreamProgress
from shared.runtime import Runtime

DESCRIPTION = """
Intake is where call-centre integrations (110, 12345, web, app, SMS, grid workers) file citizen reports and follow
them to the end, and where the linkage centre reads its statistics (intake follows every report, routing decision,
ticket state and call-back). Every endpoint but `/healthz` and `/readyz` needs `Authorization: Bearer <api key>`:
reports take `call_centre`, `centre_operator` or `admin`; statistics `centre_operator`, `admin` or a
`department_supervisor` (own department). Errors are RFC 9457 problem details.
"""


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    def runtime(app: FastAPI) -> Runtime:
        # the consumer records routings; the sweeper asks it before announcing a report again
        router_progress = app.state.router_progress = DownstreamProgress(settings.redelivery_after_s)
        return Runtime(settings, migrations=MIGRATIONS, lock_id=LOCK_ID, outbox_model=OutboxMessage,
                       processed_model=ProcessedEvent, dead_letter_model=DeadLetter, topics=consumers.topics,
                       handler_factory=lambda _rt: consumers.make_handler(router_progress),
                       prefetch=consumers.prefetch,
                       sweeper=consumers.make_sweeper(settings.redelivery_after_s, router_progress))

    return build_app(title="Linkage intake", description=DESCRIPTION, version="1.0.0", lifespan=runtime_lifespan(runtime),
                     routers=[reports_router, stats_router],
                     tags=[{"name": "reports", "description": "File citizen reports and follow them"},
                           {"name": "stats", "description": "Figures for the linkage centre (JSON or CSV)"},
                           {"name": "health", "description": "Liveness and readiness"}])

from __future__ import annotations


from fastapi import FastAPI

from departments import consumers
from departments.db import LOCK_ID, MIGRATIONS, DeadLetter, OutboxMessage, ProcessedEvent
from departments.settings import DepartmentsSettings
from departments.tickets.routes import router as tickets_router
from shared.http import build_app, runtime_lifespan
from shared.messaging.redelivery import DownstreamProgress
from shared.registry import load_registry
from shared.runtime import PeriodicTask, Runtime

DESCRIPTION = """
Departments is where each city department works the tickets the router dispatches to it: acknowledge, start,
note, resolve, close, reopen, hand back (transfer) or cancel, every change kept in a hash-chained, append-only audit
trail and announced on `tickets.events`. Every endpoint but `/healthz` and `/readyz` needs
`Authorization: Bearer <api key>`: department staff and supervisors work their own department's tickets; centre
operators and admins read every ticket and may reopen or cancel. Errors are RFC 9457 problem details.
"""


def create_app(settings: DepartmentsSettings | None = None) -> FastAPI:
    settings = settings or DepartmentsSettings()

    def runtime(app: FastAPI) -> Runtime:
        registry = load_registry(settings.registry_file)
        served = app.state.served_departments = settings.served(registry)  # refuses an unknown department code
        sla = app.state.sla_policies = settings.sla_policies(registry)
        # the consumer records intake's receipts; the sweeper asks it before announcing a ticket's state again
        intake_progress = app.state.intake_progress = DownstreamProgress(settings.redelivery_after_s)
        return Runtime(settings, migrations=MIGRATIONS, lock_id=LOCK_ID, outbox_model=OutboxMessage,
                       processed_model=ProcessedEvent, dead_letter_model=DeadLetter, registry=registry,
                       topics=lambda reg: consumers.topics(reg, served),
                       handler_factory=lambda _rt: consumers.make_handler(settings.redelivery_after_s, sla,
                                                                          intake_progress),
                       sweeper=consumers.make_sweeper(settings.redelivery_after_s, intake_progress),
                       prefetch=consumers.prefetch,
                       periodic=[PeriodicTask("escalation-scheduler", settings.escalation_interval_s,
                                              consumers.make_escalator(settings.redelivery_after_s, sla))])

    return build_app(title="Linkage departments", description=DESCRIPTION, version="1.0.0", lifespan=runtime_lifespan(runtime),
                     routers=[tickets_router],
                     tags=[{"name": "tickets", "description": "Work a department's tickets and audit them"},
                           {"name": "health", "description": "Liveness and readiness"}])

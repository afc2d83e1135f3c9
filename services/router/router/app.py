from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from router import consumers
from router.db import LOCK_ID, MIGRATIONS, DeadLetter, OutboxMessage, ProcessedEvent
from router.registry.routes import router as registry_router
from router.engine import EngineSettings, RoutingEngine
from router.registry.service import switch_driven
from router.routing.classifier import Classifier, KeywordClassifier
from router.routing.routes import router as routing_router
from router.settings import RouterSettings
from shared.http import build_app, runtime_lifespan
from shared.messaging.redelivery import DownstreamProgress
from shared.registry import Registry, load_registry
from shared.runtime import Runtime

DESCRIPTION = """
The router decides, for every report, whether it is a police matter, which department leads and which assist, and
how urgent it is; it publishes one `ticket.dispatched.v1` per department to `dept.<code>` and re-routes a report
when a department hands it back.

- Reports the classifier is not sure about wait in the **triage queue** (`GET /v1/triage`) for a centre operator
  (`POST /v1/triage/{report_id}/route`); a possible police matter reaches police while it waits.
- Another caller's report of an incident already routed (same lead, nearby, similar text, within a time window) is
  **linked** to the first report instead of opening new tickets (`incident.report_linked.v1` on `dept.<code>`).
- **Presence**: seasonal departments route to their fallback out of season; centre operators switch temporary
  departments on and off (`PUT /v1/departments/{code}/presence`, audited).
- `POST /v1/classify` suggests routing for a text without storing anything.

Endpoints need `Authorization: Bearer <api key>`; errors are RFC 9457 problem details.
"""


def build_classifier(settings: RouterSettings, registry: Registry) -> Classifier:
    """The router's classifier: the routing engine (rules + model + combiner) unless settings ask for the rules
    alone. The model artifact is read from the package (or ``LINKAGE_ROUTER_MODEL_FILE``), never the network."""
    if settings.classifier == "keywords":
        return KeywordClassifier(registry)
    engine_settings = EngineSettings(review_threshold=settings.review_threshold,
                                     police_threshold=settings.police_threshold)
    return RoutingEngine.load(registry, settings.model_file, engine_settings)


def create_app(settings: RouterSettings | None = None,
               classifier_factory: Callable[[Registry], Classifier] | None = None) -> FastAPI:
    """The router app. ``classifier_factory`` builds the classifier from the (switch-driven) registry; default
    :func:`build_classifier` (the routing engine)."""
    settings = settings or RouterSettings()
    make_classifier = classifier_factory or (lambda registry: build_classifier(settings, registry))

    def runtime(app: FastAPI) -> Runtime:
        registry = load_registry(settings.registry_file)
        # the classifier sees temporary departments as routable only when passed in `switched_on`, which the
        # router computes from the operators' switches (router.registry.service.PresenceService)
        classifier = app.state.classifier = make_classifier(switch_driven(registry))
        # the consumer records tickets seen; the sweeper asks it before dispatching again
        departments_progress = app.state.departments_progress = DownstreamProgress(settings.redelivery_after_s)
        return Runtime(settings, migrations=MIGRATIONS, lock_id=LOCK_ID, outbox_model=OutboxMessage,
                       processed_model=ProcessedEvent, dead_letter_model=DeadLetter, registry=registry,
                       topics=consumers.topics,
                       handler_factory=lambda _rt: consumers.make_handler(
                           classifier, registry, settings.redelivery_after_s, settings.duplicate_policy,
                           departments_progress),
                       sweeper=consumers.make_sweeper(classifier, registry, settings.redelivery_after_s,
                                                      departments_progress),
                       prefetch=consumers.prefetch)

    return build_app(title="Linkage router", description=DESCRIPTION, version="1.0.0", lifespan=runtime_lifespan(runtime),
                     routers=[routing_router, registry_router],
                     tags=[{"name": "routing", "description": "Routing decisions, suggestions and the triage queue"},
                           {"name": "departments", "description": "The department registry and presence"},
                           {"name": "health", "description": "Liveness and readiness"}])

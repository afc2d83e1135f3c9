from __future__ import annotations


from fastapi import FastAPI

from router import consumers
from router.db import LOCK_ID, MIGRATIONS, DeadLetter, OutboxMessage, ProcessedEvent
from router.registry.routes import router as registry_router
from router.engine import EngineSettings, RoutingEngine
from router.routing.classifier import Classifier, KeywordClassifier
from router.routing.routes import router as routing_router
from router.settings import RouterSettings
from shared.http import build_app, runtime_lifespan
from shared.registry import Registry, load_registry
from shared.runtime import Runtime

DESCRIPTION = """
The router decides, for every report, whether it is a police matter, which department leads and which assist, and
how urgent it is; it publishes one `ticket.dispatched.v1` per department to `dept.<code>` and re-routes a report
when a department hands it back. Endpoints need `Authorization: Bearer <api key>`; errors are RFC 9457 problem
details.
"""


def build_classifier(settings: RouterSettings, registry: Registry) -> Classifier:
    """The router's classifier: the routing engine (rules + model + combiner) unless settings ask for the rules
    alone. The model artifact is read from the package (or ``LINKAGE_ROUTER_MODEL_FILE``), never the network."""
    if settings.classifier == "keywords":
        return KeywordClassifier(registry)
    engine_settings = EngineSettings(review_threshold=settings.review_threshold,
                                     police_threshold=settings.police_threshold)
    return RoutingEngine.load(registry, settings.model_file, engine_settings)


def create_app(settings: RouterSettings | None = None) -> FastAPI:
    settings = settings or RouterSettings()

    def runtime(app: FastAPI) -> Runtime:
        registry = load_registry(settings.registry_file)
        classifier = app.state.classifier = build_classifier(settings, registry)
        return Runtime(settings, migrations=MIGRATIONS, lock_id=LOCK_ID, outbox_model=OutboxMessage,
                       processed_model=ProcessedEvent, dead_letter_model=DeadLetter, registry=registry,
                       topics=consumers.topics,
                       handler_factory=lambda _rt: consumers.make_handler(classifier, settings.redelivery_after_s),
                       sweeper=consumers.make_sweeper(classifier, settings.redelivery_after_s),
                       prefetch=consumers.prefetch)

    return build_app(title="Linkage router", description=DESCRIPTION, version="1.0.0", lifespan=runtime_lifespan(runtime),
                     routers=[routing_router, registry_router],
                     tags=[{"name": "routing", "description": "Routing decisions and their history"},
                           {"name": "departments", "description": "The department registry"},
                           {"name": "health", "description": "Liveness and readiness"}])

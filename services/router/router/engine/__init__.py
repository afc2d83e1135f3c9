"""The routing engine: operator rules, a statistical model and a combiner (see :mod:`router.engine.combiner`)."""

from router.engine.combiner import EngineSettings, RoutingEngine
from router.engine.model import DEFAULT_MODEL_FILE, RoutingModel

__all__ = ["DEFAULT_MODEL_FILE", "EngineSettings", "RoutingEngine", "RoutingModel"]

"""Run a service's app with uvicorn, JSON-logged, on its configured host and port."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from shared.logging import configure_logging
from shared.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    try:
        import uvloop  # noqa: F401
        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False, loop=loop,
                timeout_graceful_shutdown=10)

"""HTTP plumbing every service shares: the app skeleton, the unit-of-work dependency, health endpoints."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.problems import MalformedRequest, PayloadTooLarge, install_problem_handlers, problem_response
from shared.runtime import Runtime


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """The entrypoint owns the transaction: commit when the route returns, roll back when it raises; after the
    commit, wake the outbox relay."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.sessions() as session:
        async with session.begin():
            yield session
    runtime.notify_outbox()


# The commit must happen before the response is sent (scope="function"): a 201 means "stored".
UnitOfWork = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    checks: dict[str, bool] = Field(default_factory=dict, examples=[{"database": True, "broker": True}])


health_router = APIRouter(tags=["health"])


@health_router.get("/healthz", response_model=Health, summary="Liveness: the process is up")
async def healthz() -> Health:
    return Health(status="ok")


@health_router.get("/readyz", response_model=Health, summary="Readiness: database and broker reachable",
                   responses={503: {"model": Health, "description": "A dependency is unreachable"}})
async def readyz(request: Request) -> Any:
    checks = await request.app.state.runtime.readiness()
    ok = all(checks.values())
    body = Health(status="ok" if ok else "unavailable", checks=checks)
    return body if ok else JSONResponse(body.model_dump(), status_code=503)


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413 problem details before reading them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                    response = problem_response(PayloadTooLarge(f"Request bodies are limited to {self.limit} bytes."))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ControlCharacterGuard:
    """Refuse a request whose path or query holds a control character (C0 or DEL; NUL above all: PostgreSQL refuses
    it in text, so an id with one would reach the database and fail), or whose header values hold a NUL, with 400
    problem details, before any route reads them (other controls in headers are the HTTP server's business; tab is
    valid in a header value). The problem's ``instance`` is the path with its control characters percent-encoded.
    Bodies are the schemas' business (``shared.inputs``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._controlled(scope):
            response = problem_response(MalformedRequest(
                "Control characters (such as NUL) are not allowed in the URL, nor NUL in header values."))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _controlled(scope: Scope) -> bool:
        if _CONTROL.search(scope.get("path", "")):
            return True
        query = scope.get("query_string", b"")
        if query and _CONTROL.search(unquote_plus(query.decode("latin-1"))):
            return True
        return any(b"\x00" in value for _, value in scope.get("headers", ()))


def runtime_lifespan(build: Callable[[FastAPI], Runtime]) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: build the service's :class:`Runtime` (nothing connects before this), start it
    (migrations, relay, consumer), hand it to routes as ``app.state.runtime``, stop it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build(app)
        try:
            await runtime.start()
        except BaseException:
            await runtime.stop()
            raise
        app.state.runtime = runtime
        app.state.identity = runtime.identity
        try:
            yield
        finally:
            await runtime.stop()

    return lifespan


def build_app(*, title: str, description: str, version: str,
              lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]], routers: list[APIRouter],
              tags: list[dict[str, str]] | None = None, body_limit: int = 64 * 1024) -> FastAPI:
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan,
                  openapi_tags=tags, docs_url="/docs", redoc_url="/redoc")
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, limit=body_limit)
    app.add_middleware(ControlCharacterGuard)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    return app

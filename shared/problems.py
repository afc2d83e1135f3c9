"""Domain errors and their one translation to RFC 9457 problem details (``application/problem+json``).

Services raise :class:`Problem` subclasses that say what went wrong in domain terms; they never raise
``HTTPException``. :func:`install_problem_handlers` is the single place that turns errors into HTTP responses.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://linkage.example/problems/"

log = logging.getLogger("linkage.problems")


class Problem(Exception):
    """A domain error with an HTTP meaning. ``slug`` names the problem type, ``extensions`` add members."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": TYPE_BASE + self.slug, "title": self.title, "status": self.status,
                                "detail": self.detail}
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class InvalidInput(Problem):
    status, title, slug = 422, "Invalid input", "invalid-input"


class MalformedRequest(Problem):
    status, title, slug = 400, "Malformed request", "malformed-request"


class Unauthenticated(Problem):
    status, title, slug = 401, "Authentication required", "unauthenticated"


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class Unavailable(Problem):
    status, title, slug = 503, "Service unavailable", "unavailable"


class _ProblemResponse(JSONResponse):
    """Problem details for a request not at hand when the response is built (ASGI middleware such as the body size
    limit): ``instance`` is taken from the request it answers when it is sent."""

    def __init__(self, problem: Problem, headers: dict[str, str] | None) -> None:
        super().__init__(problem.to_dict(), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)
        self.problem, self.extra_headers = problem, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(self.problem, Request(scope), self.extra_headers)
        await response(scope, receive, send)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _instance(path: str) -> str:
    """The request's path as ``instance``, control characters percent-encoded (``/v1/reports/abc%00def``): a path
    the control-character guard refuses is not echoed with a raw NUL. Any other path is unchanged."""
    return _CONTROL.sub(lambda m: quote(m.group(), safe=""), path)


def problem_response(problem: Problem, request: Request | None = None, headers: dict[str, str] | None = None
                     ) -> JSONResponse:
    """The problem as ``application/problem+json``; ``instance`` is the request's path, control characters
    percent-encoded (without ``request``: the path of the request the response is sent for)."""
    if request is None:
        return _ProblemResponse(problem, headers)
    return JSONResponse(problem.to_dict(_instance(request.url.path)), status_code=problem.status,
                        media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return MalformedRequest("The request body is not valid JSON.",
                                errors=[{"field": "body", "message": str(e.get("msg"))} for e in errors])
    items = [{"field": _field_path(e.get("loc", ())), "message": str(e.get("msg")), "type": e.get("type")}
             for e in errors]
    fields = ", ".join(dict.fromkeys(i["field"] for i in items))
    return InvalidInput(f"Invalid value for: {fields}.", errors=items)


# FastAPI answers a body its JSON parser gives up on other than with a syntax error (nested too deeply for the
# parser's recursion, bytes that are not UTF-8) with this 400 HTTPException, raised from the parser's error.
_FASTAPI_BODY_ERROR = "There was an error parsing the body"


def _unparsed_body(exc: StarletteHTTPException) -> MalformedRequest | None:
    """The malformed-request problem for a body FastAPI could not parse as JSON, as for a syntax error."""
    if exc.status_code != 400 or exc.detail != _FASTAPI_BODY_ERROR:
        return None
    cause = exc.__cause__
    why = ("it is nested too deeply" if isinstance(cause, RecursionError)
           else "it is not UTF-8 text" if isinstance(cause, UnicodeDecodeError)
           else "it could not be parsed")
    return MalformedRequest("The request body is not valid JSON.", errors=[{"field": "body", "message": why}])


def install_problem_handlers(app: FastAPI) -> None:
    document_problems(app)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        return problem_response(exc, request, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if (unparsed := _unparsed_body(exc)) is not None:
            return problem_response(unparsed, request)
        problem = Problem(str(exc.detail))
        problem.status = exc.status_code
        problem.title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        problem.slug = problem.title.lower().replace(" ", "-")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = allowed
        return problem_response(problem, request, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        problem = Problem("An unexpected error occurred; nothing was changed.")
        problem.status, problem.title, problem.slug = 500, "Internal server error", "internal"
        return problem_response(problem, request)


class FieldError(BaseModel):
    field: str = Field(examples=["location.lat"])
    message: str = Field(examples=["Input should be less than or equal to 90"])
    type: str | None = Field(None, examples=["less_than_equal"])


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, served as ``application/problem+json``."""

    type: str = Field(examples=[TYPE_BASE + "invalid-input"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["Invalid value for: location.lat."])
    instance: str | None = Field(None, examples=["/v1/reports"])
    errors: list[FieldError] | None = None


_DESCRIPTIONS = {400: "Malformed request (e.g. the body is not JSON)", 401: "Missing, unknown or revoked API key",
                 403: "The key's role may not do this", 404: "Not found, or not visible to this principal",
                 409: "Not allowed in the current state", 413: "Request body too large",
                 422: "Invalid input; `errors` names each field"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the problem details a route may answer with."""
    return {s: {"model": ProblemDetails, "description": _DESCRIPTIONS.get(s, "Problem")} for s in statuses}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method the request's path supports (RFC 9110: a 405 lists them in ``Allow``), found by asking the app's
    routes to match the path with each method. Starlette's own 405 names only the methods of the first route whose
    path matched (``POST`` for ``/v1/reports``, which also has ``GET``)."""
    methods = {method for method in _METHODS for route in request.app.router.routes
               if route.matches({**request.scope, "method": method})[0] is Match.FULL}
    return ", ".join(sorted(methods))


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what the handlers above serve (checked with schemathesis): error responses (4xx,
    5xx) under ``application/problem+json`` (FastAPI files every ``responses=`` model under ``application/json``);
    every 422 as :class:`ProblemDetails`, never FastAPI's default ``HTTPValidationError`` (added to routes that do
    not list 422 themselves); and, for every operation that takes a body, the 400 (not JSON) and 413 (too large) that
    any body can get."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # cached by FastAPI in app.openapi_schema, edited here once
            components = schema.get("components", {}).get("schemas", {})
            if "ProblemDetails" in components:
                _document_problems(schema, components)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_problems(schema: dict[str, Any], components: dict[str, Any]) -> None:
    def problem(status: int) -> dict[str, Any]:
        return {"description": _DESCRIPTIONS[status],
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}}

    for item in schema.get("paths", {}).values():
        for operation in (value for value in item.values() if isinstance(value, dict)):
            responses = operation.get("responses", {})
            if "requestBody" in operation:
                for status in (400, 413):
                    responses.setdefault(str(status), problem(status))
            for status, response in list(responses.items()):
                content = response.get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if ref == "#/components/schemas/HTTPValidationError":  # FastAPI's default 422, never served here
                    responses[status] = problem(422)
                elif str(status)[:1] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    components.pop("HTTPValidationError", None)  # no response refers to them any more
    components.pop("ValidationError", None)

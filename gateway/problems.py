"""RFC 9457 problem details: the one shape every error of the gateway takes.

/api paths answer `application/problem+json`. Other paths belong to the
browser-facing portal and answer a small HTML page with the same status.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

import grpc
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from portal.common.v1 import common_pb2
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response

from gateway.backends import RemoteError
from services.chassis.grpc_client import error_detail
from services.chassis.telemetry import get_logger

log = get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://portal.dev/problems/"


class FieldError(BaseModel):
    field: str | None = Field(default=None, description="The offending field, e.g. `stage`.")
    location: str | None = Field(
        default=None,
        serialization_alias="in",
        description="Where the field was: body, query, path or header.",
    )
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="What went wrong, in a sentence a person can act on.")
    instance: str | None = Field(default=None, description="The path of the request that failed.")
    code: str | None = Field(default=None, description="A stable machine-readable code.")
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raise from a route or dependency to answer with a problem."""

    def __init__(self, problem: Problem, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.headers = dict(headers or {})


class ProblemHTTPException(HTTPException):
    """A problem raised where only an HTTPException gets through as itself: out
    of `receive()` while FastAPI reads a body, which turns any other exception
    into a 400 "There was an error parsing the body"."""

    def __init__(self, error: ProblemError) -> None:
        super().__init__(error.problem.status, error.problem.detail, headers=error.headers)
        self.error = error


def problem_type(slug: str) -> str:
    return TYPE_BASE + slug


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def respond(error: ProblemError, *, path: str) -> Response:
    problem = error.problem
    if is_api_path(path):
        # Straight to JSON (the same bytes as dumping to a dict, then json.dumps,
        # in half the time): a refused booking carries a week of free times.
        body = problem.model_copy(update={"instance": path}).model_dump_json(
            by_alias=True, exclude_none=True
        )
        return Response(
            body, status_code=problem.status, headers=error.headers, media_type=MEDIA_TYPE
        )
    return HTMLResponse(error_page(problem), status_code=problem.status, headers=error.headers)


def error_page(problem: Problem) -> str:
    title, detail = html.escape(problem.title), html.escape(problem.detail)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><h1>{title}</h1><p>{detail}</p></body></html>"
    )


def unsupported_media_type(detail: str) -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("unsupported-media-type"),
            title="Unsupported media type",
            status=415,
            detail=detail,
            code="unsupported_media_type",
        )
    )


def no_portal_here() -> ProblemError:
    # The same answer for a foreign host, the bare domain and an unknown slug:
    # nothing tells a prober which slugs exist.
    return ProblemError(
        Problem(
            type=problem_type("not-found"),
            title="Not found",
            status=404,
            detail="There is no portal at this address. Check the link you were sent.",
            code="unknown_host",
        )
    )


# The one table from a service's answer to HTTP: a stable ErrorDetail code
# where the gateway must tell cases apart, else the gRPC status (the
# fallback). Anything in neither is a 500. (HTTP status, type slug, title.)
HTTP_FOR: dict[str | grpc.StatusCode, tuple[int, str, str]] = {
    # documents refuses a file over the integrator's size limit
    "file_too_large": (413, "too-large", "Content too large"),
    # a service refused a call it had no room for (chassis.admission): nothing changed
    "overloaded": (503, "overloaded", "Service busy"),
    grpc.StatusCode.INVALID_ARGUMENT: (422, "invalid-request", "Invalid request"),
    grpc.StatusCode.OUT_OF_RANGE: (422, "invalid-request", "Invalid request"),
    grpc.StatusCode.NOT_FOUND: (404, "not-found", "Not found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "already-exists", "Already exists"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "not-allowed-now", "Not allowed now"),
    grpc.StatusCode.ABORTED: (409, "conflict", "Conflict"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden", "Forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthenticated", "Unauthenticated"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "timeout", "Gateway timeout"),
    grpc.StatusCode.UNAVAILABLE: (503, "unavailable", "Service unavailable"),
    # Throttled (sign-in attempts): the ErrorDetail says how long to wait.
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "too-many-requests", "Too many requests"),
}
# The channel's own failures: no service spoke, so no code to look up.
_TRANSPORT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def http_for(exc: grpc.aio.AioRpcError) -> tuple[int, str, str] | None:
    """(HTTP status, type slug, title) for a failed call, or None for a 500."""
    if exc.code() not in _TRANSPORT:
        mapped = HTTP_FOR.get(error_detail(exc).code)
        if mapped is not None:
            return mapped
    return HTTP_FOR.get(exc.code())


def from_rpc_error(exc: grpc.aio.AioRpcError, *, service: str) -> ProblemError:
    code = exc.code()
    mapped = http_for(exc)
    if mapped is None:
        # The service's message may carry internals: log it, never show it.
        log.error("rpc failed", backend=service, code=code.name, details=exc.details())
        return internal_error()
    status, slug, title = mapped
    headers: dict[str, str] = {}
    errors = None
    if code is grpc.StatusCode.UNAVAILABLE:
        log.warning("rpc unavailable", backend=service, details=exc.details())
        detail = f"The {service} service is unavailable; try again shortly."
        code_name = "unavailable"
        headers["Retry-After"] = "1"
    elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
        log.warning("rpc deadline exceeded", backend=service)
        detail = f"The {service} service did not answer in time; try again shortly."
        code_name = "deadline_exceeded"
    else:
        return refused(code, error_detail(exc), mapped)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return ProblemError(
        Problem(
            type=problem_type(slug),
            title=title,
            status=status,
            detail=detail,
            code=code_name,
            errors=errors,
        ),
        headers=headers,
    )


def refused(
    code: grpc.StatusCode,
    info: common_pb2.ErrorDetail,
    mapped: tuple[int, str, str] | None = None,
) -> ProblemError:
    """A service's refusal (its status and ErrorDetail) as a problem: also
    one delivery's in a batch call that answers each on its own."""
    mapped = mapped or HTTP_FOR.get(info.code) or HTTP_FOR.get(code)
    if mapped is None:
        log.error("rpc refused", code=code.name, details=info.message)
        return internal_error()
    status, slug, title = mapped
    detail, code_name = info.message or title, info.code or code.name.lower()
    errors = [
        FieldError(field=v.field or None, message=v.description or detail)
        for v in info.field_violations
    ] or None
    headers: dict[str, str] = {}
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        headers["Retry-After"] = str(max(1, info.retry_after_seconds))
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return ProblemError(
        Problem(
            type=problem_type(slug),
            title=title,
            status=status,
            detail=detail,
            code=code_name,
            errors=errors,
        ),
        headers=headers,
    )


def from_validation_error(exc: RequestValidationError) -> ProblemError:
    errors = [_field_error(error) for error in exc.errors()]
    names = ", ".join(dict.fromkeys(e.field or e.location or "the body" for e in errors))
    return ProblemError(
        Problem(
            type=problem_type("invalid-request"),
            title="Invalid request",
            status=422,
            detail=f"Fix these and send the request again: {names}.",
            code="invalid_request",
            errors=errors,
        )
    )


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _field_error(error: Mapping[str, Any]) -> FieldError:
    loc = tuple(error.get("loc") or ())
    location = loc[0] if loc and loc[0] in _LOCATIONS else None
    path = loc[1:] if location else loc
    message = _sentence(str(error.get("msg", "is invalid")))
    if error.get("type") == "json_invalid":
        # Its "field" is a character offset, not a field.
        reason = (error.get("ctx") or {}).get("error")
        return FieldError(
            location=location,
            message=f"The body is not valid JSON: {reason}." if reason else message,
        )
    return FieldError(
        field=".".join(str(part) for part in path) or None, location=location, message=message
    )


def from_http_exception(exc: StarletteHTTPException, *, method: str) -> ProblemError:
    status = exc.status_code
    if status == 404:
        problem = Problem(
            type=problem_type("not-found"),
            title="Not found",
            status=404,
            detail="There is nothing at this address.",
            code="not_found",
        )
    elif status == 405:
        problem = Problem(
            type=problem_type("method-not-allowed"),
            title="Method not allowed",
            status=405,
            detail=f"This address does not accept {method}; see the Allow header.",
            code="method_not_allowed",
        )
    else:
        phrase = _phrase(status)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else phrase
        problem = Problem(title=phrase, status=status, detail=_sentence(detail))
    return ProblemError(problem, headers=exc.headers)


def internal_error() -> ProblemError:
    return ProblemError(
        Problem(
            title="Internal Server Error",
            status=500,
            detail="Something went wrong on our side. Try again; if it keeps happening, "
            "contact support.",
            code="internal",
        )
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# OpenAPI: document the problem shape on every route of the JSON API. Listing
# 422 here also replaces FastAPI's default (non-problem) validation schema.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": _phrase(status),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


PageRenderer = Callable[[Request, ProblemError], Awaitable[Response]]


def install(app: FastAPI, *, page_renderer: PageRenderer | None = None) -> None:
    """Route every error the app can raise through the problem shape. On a
    tenant's host, pages (not /api) may be answered by `page_renderer`, which
    shows the problem in the portal's own layout."""

    async def answer(request: Request, error: ProblemError) -> Response:
        path = request.url.path
        if (
            page_renderer is not None
            and not is_api_path(path)
            and getattr(request.state, "tenant", None) is not None
        ):
            try:
                return await page_renderer(request, error)
            except Exception:  # the fancy page failed: the plain one still answers
                log.exception("error page failed")
        return respond(error, path=path)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return await answer(request, exc)

    async def on_remote(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RemoteError)
        return await answer(request, from_rpc_error(exc.error, service=exc.service))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return await answer(request, from_validation_error(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, ProblemHTTPException):
            return await answer(request, exc.error)
        return await answer(request, from_http_exception(exc, method=request.method))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Starlette re-raises after this answers, so the server logs the traceback.
        return await answer(request, internal_error())

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RemoteError, on_remote)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def tidy_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Errors are only ever problem+json; FastAPI also lists the route's own
    media type for every documented response, so drop it where it is wrong."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[0] in "45" and MEDIA_TYPE in content:
                    content.pop("application/json", None)
    return schema

"""The request's server span, on the OpenTelemetry API, without matching routes.

OpenTelemetry's FastAPI instrumentation names the span by matching the path
against every route before the request runs, then Starlette matches them again
(7-14% of the gateway's CPU with ~130 routes), and it adds a span per ASGI
send and receive and metrics besides. This middleware starts one SERVER span
named after the method, lets Starlette route as it does anyway, and renames the
span after the route Starlette chose (`scope["route"]`, "GET /api/v1/projects").
An unsampled request costs a context extraction and a non-recording span.
"""

from __future__ import annotations

from collections.abc import Collection

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What W3C trace context and baggage travel in; nothing else is decoded.
_PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage"})
_NO_PARENT = Context()


class ServerSpans:
    def __init__(self, app: ASGIApp, *, excluded_paths: Collection[str] = ()) -> None:
        self.app = app
        self._excluded = frozenset(excluded_paths)
        self._tracer = trace.get_tracer("gateway.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._excluded:
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _PROPAGATED
        }
        method = scope["method"]
        # No trace context sent (most callers): the empty context extracting
        # from an empty carrier gives, without the propagators' walk.
        parent = propagate.extract(carrier) if carrier else _NO_PARENT
        with self._tracer.start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER
        ) as span:
            if not span.is_recording():
                await self.app(scope, receive, send)
                return
            status = 0

            async def send_with_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", scope["path"])
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                if status:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))

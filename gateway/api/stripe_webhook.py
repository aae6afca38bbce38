"""Stripe's webhook endpoint: one for the platform, outside the tenant host
and CSRF (Stripe signs, it has no session), answered before FastAPI's
routing (`FastPath`). The raw body goes to payments byte for byte with its
Stripe-Signature, with the deliveries arriving alongside it in one call
(gateway/stripe_deliveries.py); payments verifies it, records the event once
by id and answers; the work happens after that commit. So this answers in
milliseconds, and a redelivery is a cheap no-op.

Bounded: a body over MAX_BODY is refused before it is read in full, and at
most MAX_IN_FLIGHT deliveries are handed over at once (Stripe retries a 503
with backoff for up to three days, so shedding loses nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace

import grpc
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.backends import Backends, RemoteError
from gateway.deps import BackendsDep
from gateway.problems import (
    Problem,
    ProblemError,
    from_rpc_error,
    internal_error,
    problem_responses,
    problem_type,
    refused,
    respond,
)
from services.chassis.telemetry import get_logger

log = get_logger(__name__)

PATH = "/api/v1/stripe/webhook"
MAX_BODY = 512 * 1024
MAX_IN_FLIGHT = 64
MAX_SIGNATURE = 2048
# A Stripe delivery arrives in milliseconds; a body still trickling in after
# this holds one of the MAX_IN_FLIGHT slots only this long (slowloris).
BODY_SECONDS = 10.0
_ROUTE = SimpleNamespace(path=PATH)
_STATUS = {code.value[0]: code for code in grpc.StatusCode}  # a refusal's code, by number

router = APIRouter(tags=["payments"])
_in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)


def _refuse(status: int, slug: str, title: str, detail: str, headers: dict | None = None):
    return ProblemError(
        Problem(type=problem_type(slug), title=title, status=status, detail=detail, code=slug),
        headers=headers,
    )


async def _raw_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _refuse(413, "too-large", "Content too large", "A Stripe event is never this large.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _refuse(
                413, "too-large", "Content too large", "A Stripe event is never this large."
            )
    return bytes(body)


async def answer(backends: Backends | None, request: Request) -> JSONResponse:
    """The one implementation, for the route below and the fast path."""
    signature = request.headers.get("stripe-signature", "")
    if len(signature) > MAX_SIGNATURE:
        raise _refuse(
            422, "invalid-request", "Invalid request", "A Stripe-Signature is never this long."
        )
    deliveries = backends.stripe_deliveries if backends is not None else None
    if deliveries is None:
        raise _refuse(503, "unavailable", "Busy", "Payments are not available on this portal.")
    if _in_flight.locked():
        raise _refuse(
            503,
            "unavailable",
            "Busy",
            "Too many deliveries at once; Stripe will retry.",
            headers={"Retry-After": "5"},
        )
    async with _in_flight:
        try:
            async with asyncio.timeout(BODY_SECONDS):
                payload = await _raw_body(request)
        except TimeoutError:
            raise _refuse(
                408,
                "request-timeout",
                "Request timeout",
                "The body did not arrive in time; Stripe will retry.",
            ) from None
        # Sent with the deliveries arriving alongside it (gateway/stripe_deliveries.py).
        result = await deliveries.ingest(payload, signature)
    if result.error_status:
        raise refused(_STATUS[result.error_status], result.error)
    return JSONResponse({"received": True, "duplicate": result.duplicate})


@router.post(
    PATH,
    summary="Stripe's webhook endpoint (signed by Stripe)",
    responses=problem_responses(400, 401, 404, 408, 413, 422, 503),
)
async def stripe_webhook(
    request: Request,
    backends: BackendsDep,
    stripe_signature: str = Header("", alias="Stripe-Signature", max_length=MAX_SIGNATURE),
) -> JSONResponse:
    """Documents the endpoint; a POST is answered by `FastPath` before routing."""
    return await answer(backends, request)


class FastPath:
    """POST on the webhook's path, answered before FastAPI: at ingest rates
    the middleware this route does not need (sessions, CSRF, the tenant's
    host, the page machinery, routing and dependency solving) cost about a
    third of the gateway's CPU per delivery. Kept: the security headers (the
    app puts them outside this), the server span (`ServerSpans` around the
    endpoint), the body limit, the in-flight limit and the problem answers.
    Anything else goes to `app`."""

    def __init__(self, app: ASGIApp, *, spans: Callable[[ASGIApp], ASGIApp]) -> None:
        self.app = app
        self._endpoint = spans(self._answer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST":
            await self._endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = _ROUTE  # the span's name, as Starlette's routing would set it
        state = scope.get("state") or {}
        try:
            response: Response = await answer(state.get("backends"), Request(scope, receive))
        except ClientDisconnect:
            return  # Stripe hung up: it retries
        except ProblemError as error:
            response = respond(error, path=PATH)
        except RemoteError as error:
            response = respond(from_rpc_error(error.error, service=error.service), path=PATH)
        except Exception:
            log.exception("stripe webhook failed")
            response = respond(internal_error(), path=PATH)
        await response(scope, receive, send)

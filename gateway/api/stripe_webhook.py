"""Stripe's webhook endpoint: one for the platform, outside the tenant host
and CSRF (Stripe signs, it has no session). The raw body goes to payments
byte for byte with its Stripe-Signature, with the deliveries arriving
alongside it in one call (gateway/stripe_deliveries.py); payments verifies it, records the
event once by id and answers; the work happens after that commit. So this
answers in milliseconds, and a redelivery is a cheap no-op.

Bounded: a body over MAX_BODY is refused before it is read in full, and at
most MAX_IN_FLIGHT deliveries are handed over at once (Stripe retries a 503
with backoff for up to three days, so shedding loses nothing).
"""

from __future__ import annotations

import asyncio

import grpc
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from gateway.deps import BackendsDep
from gateway.problems import Problem, ProblemError, problem_responses, problem_type, refused

PATH = "/api/v1/stripe/webhook"
MAX_BODY = 512 * 1024
MAX_IN_FLIGHT = 64

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


@router.post(
    PATH,
    summary="Stripe's webhook endpoint (signed by Stripe)",
    responses=problem_responses(400, 401, 404, 413, 503),
)
async def stripe_webhook(
    request: Request,
    backends: BackendsDep,
    stripe_signature: str = Header("", alias="Stripe-Signature", max_length=2048),
) -> JSONResponse:
    deliveries = backends.stripe_deliveries
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
        payload = await _raw_body(request)
        # Sent with the deliveries arriving alongside it (gateway/stripe_deliveries.py).
        answer = await deliveries.ingest(payload, stripe_signature)
    if answer.error_status:
        raise refused(_STATUS[answer.error_status], answer.error)
    return JSONResponse({"received": True, "duplicate": answer.duplicate})


_STATUS = {code.value[0]: code for code in grpc.StatusCode}

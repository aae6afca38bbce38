"""Stripe's webhook endpoint: one for the platform, outside the tenant host
and CSRF (Stripe signs, it has no session). The raw body goes to payments
byte for byte with its Stripe-Signature; payments verifies it, records the
event once by id and answers; the work happens after that commit. So this
answers in milliseconds, and a redelivery is a cheap no-op.

Bounded: a body over MAX_BODY is refused before it is read in full, and at
most MAX_IN_FLIGHT deliveries are handed over at once (Stripe retries a 503
with backoff for up to three days, so shedding loses nothing).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from portal.payments.v1 import payments_pb2 as pb

from gateway.backends import gateway_principal
from gateway.deps import PaymentsDep
from gateway.problems import Problem, ProblemError, problem_responses, problem_type

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
    payments: PaymentsDep,
    stripe_signature: str = Header("", alias="Stripe-Signature", max_length=2048),
) -> JSONResponse:
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
        answer = await payments.call(
            payments.stub.IngestStripeEvent,
            pb.IngestStripeEventRequest(payload=payload, signature=stripe_signature),
            principal=gateway_principal(),
        )
    return JSONResponse({"received": True, "duplicate": answer.duplicate})

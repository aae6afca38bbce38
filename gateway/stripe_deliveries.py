"""Stripe's webhook deliveries, handed to payments several per call.

Group commit across the wire: a delivery that arrives while a call is
already on its way (MAX_CALLS) waits for the next one, with every other
delivery that arrived meanwhile (up to MAX_BATCH). Alone, a delivery is sent at once:
nothing waits for a batch to fill, so the added wait is at most one call's
time, and only under load. Under load the gateway makes one gRPC call (and
payments one principal check and one transaction) per batch instead of one
per delivery: at hundreds a second the call itself was the largest cost on
both sides.

Each delivery keeps its own answer (payments answers or refuses each on its
own: one forged body refuses only itself) and its own trace: its request's
traceparent travels with it, so its event joins that request's trace. A call
that fails as a whole (payments down, the deadline) fails each delivery in
it as one call of its own would have; Stripe retries them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from portal.payments.v1 import payments_pb2 as pb

from services.chassis.auth import Principal

if TYPE_CHECKING:
    from gateway.backends import PaymentsRemote

# Only the W3C traceparent travels with a delivery, so its propagator alone:
# the global composite (baggage too) cost twice as much per delivery.
_TRACEPARENT = TraceContextTextMapPropagator()
MAX_BATCH = 64  # payments takes up to 256; 64 keeps one call's time short
# One call in flight at once: payments writes one batch at a time anyway (its
# group commit), so a second call only queued there, in a batch of its own;
# waiting here instead makes the next batch bigger. Measured: about -10 % of
# server CPU per webhook at the same load (bench/HISTORY.md, branch payments).
MAX_CALLS = 1


@dataclass
class _Waiting:
    delivery: pb.StripeDelivery
    answer: asyncio.Future[pb.StripeDeliveryResult]


class StripeDeliveries:
    def __init__(
        self,
        payments: PaymentsRemote,
        principal: Principal,
        *,
        max_batch: int = MAX_BATCH,
        max_calls: int = MAX_CALLS,
    ) -> None:
        self._payments = payments
        self._principal = principal
        self._max_batch = max_batch
        self._max_calls = max_calls
        self._waiting: list[_Waiting] = []
        self._calls: set[asyncio.Task[None]] = set()

    async def ingest(self, payload: bytes, signature: str) -> pb.StripeDeliveryResult:
        """Payments' answer to this delivery: its event id and whether it was a
        duplicate, or its refusal (`error_status`, `error`). Raises RemoteError
        when the call carrying it failed as a whole."""
        carrier: dict[str, str] = {}
        _TRACEPARENT.inject(carrier)  # this request's span
        waiting = _Waiting(
            pb.StripeDelivery(
                payload=payload,
                signature=signature,
                traceparent=carrier.get("traceparent", ""),
            ),
            asyncio.get_running_loop().create_future(),
        )
        self._waiting.append(waiting)
        self._send_what_waits()
        # Shielded: a client that leaves does not cancel the others' call.
        return await asyncio.shield(waiting.answer)

    def _send_what_waits(self) -> None:
        while self._waiting and len(self._calls) < self._max_calls:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            call = asyncio.create_task(self._send(batch))
            self._calls.add(call)
            call.add_done_callback(self._finished)

    def _finished(self, call: asyncio.Task[None]) -> None:
        self._calls.discard(call)
        self._send_what_waits()

    async def _send(self, batch: list[_Waiting]) -> None:
        try:
            answer = await self._payments.call(
                self._payments.stub.IngestStripeEvents,
                pb.IngestStripeEventsRequest(deliveries=[w.delivery for w in batch]),
                principal=self._principal,
            )
            if len(answer.results) != len(batch):
                raise RuntimeError("payments answered a different number of deliveries")
        except Exception as exc:  # the whole call: every delivery hears why
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(exc)
            return
        for waiting, result in zip(batch, answer.results, strict=True):
            if not waiting.answer.done():
                waiting.answer.set_result(result)

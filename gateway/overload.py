"""Shedding load at the edge: a bounded number of requests in flight, a short
bounded queue behind them, and a clear 503 with Retry-After for the rest.

Without it, an overloaded gateway accepts everything, every request waits
behind the others for the same two cores, and the slowest ones end as a 504
after the backends' deadline: work done for nothing, and a client that cannot
tell "busy, come back" from "broken". With it, a request the gateway cannot
start soon is refused at once (problem+json 503, `Retry-After`), before it
costs a tenant lookup, a token check or a database transaction.

Also: any 503 or 504 the app answers without a `Retry-After` gets one, so every
"too busy" answer says when to come back.

Limits come from the environment (the gateway's process, one per worker):
GATEWAY_MAX_IN_FLIGHT (default 64), GATEWAY_MAX_QUEUED (default 128) and
GATEWAY_QUEUE_WAIT_SECONDS (default 2: longer than that in the queue and the
request would likely miss its deadline anyway)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Collection
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import health
from gateway.problems import problem_type

RETRY_AFTER_S = 1
BUSY_STATUSES = (503, 504)


def limits_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    return {
        "max_in_flight": int(env.get("GATEWAY_MAX_IN_FLIGHT", "64")),
        "max_queued": int(env.get("GATEWAY_MAX_QUEUED", "128")),
        "queue_wait_s": float(env.get("GATEWAY_QUEUE_WAIT_SECONDS", "2")),
    }


class InFlightLimit:
    """Pure ASGI (no response buffering): at most `max_in_flight` requests run,
    at most `max_queued` wait (each up to `queue_wait_s`); the rest get 503."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        max_queued: int,
        queue_wait_s: float,
        exempt_paths: Collection[str] = (health.PATH,),
    ) -> None:
        if max_in_flight < 1 or max_queued < 0 or queue_wait_s < 0:
            raise ValueError("max_in_flight >= 1, max_queued >= 0, queue_wait_s >= 0")
        self.app = app
        self.max_queued = max_queued
        self.queue_wait_s = queue_wait_s
        self.exempt_paths = frozenset(exempt_paths)
        self._slots = asyncio.Semaphore(max_in_flight)
        self.queued = 0
        self.shed = 0  # refused since start (read by tests and the bench's log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if not await self._admit():
            self.shed += 1
            await _busy(send)
            return
        try:
            await self.app(scope, receive, _with_retry_after(send))
        finally:
            self._slots.release()

    async def _admit(self) -> bool:
        if not self._slots.locked():
            await self._slots.acquire()  # free now: returns at once
            return True
        if self.queued >= self.max_queued:
            return False
        self.queued += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_wait_s)
        except TimeoutError:
            return False
        finally:
            self.queued -= 1
        return True


def _with_retry_after(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] in BUSY_STATUSES:
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"retry-after" for name, _ in headers):
                headers.append((b"retry-after", str(RETRY_AFTER_S).encode()))
                message = {**message, "headers": headers}
        await send(message)

    return sending


async def _busy(send: Send) -> None:
    body = json.dumps(
        {
            "type": problem_type("overloaded"),
            "title": "Service busy",
            "status": 503,
            "detail": "The portal is busy right now; try again in a moment.",
            "code": "overloaded",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Request bodies are bounded at the edge, before anything reads them.

Every request may send at most `JSON_LIMIT` (1 MiB): JSON, urlencoded
forms, anything. An upload route raises its own request's cap, once it has
authenticated the caller and learnt the integrator's limit (`allow`), to
that limit plus `FORM_ROOM`; nothing may ever pass the platform's ceiling
(GATEWAY_MAX_UPLOAD_BYTES) plus `FORM_ROOM`.

- A declared Content-Length over the ceiling is answered 413 at once: nothing
  is read and nothing else runs (no tenant lookup, no authentication).
- One over the request's cap is answered 413 when the body is first read,
  before any of it is.
- A chunked or lying body is counted as it arrives: the chunk that passes the
  cap makes `receive()` raise `BodyTooLarge` (an HTTPException, so FastAPI's
  own body reading lets it through as itself), answered 413 problem+json.
- Any answer sent before the body was read to its end (a 401 to an anonymous
  upload, a 413) carries `Connection: close`: otherwise the server would go on
  reading the rest of the body, and throwing it away, with the connection held.
- Browsers are the exception they have to be: one reads no answer before it
  has sent its whole form, so the console, for signed-in staff only, reads and
  drops the rest of a refused upload (`discard_rest`, bounded by the ceiling
  and 30 s) before it answers. Nothing of it is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import files
from gateway.problems import Problem, ProblemError, ProblemHTTPException, problem_type, respond

JSON_LIMIT = 1024 * 1024
FORM_ROOM = 1024 * 1024  # an upload's text fields and multipart framing, beside the file
SCOPE_KEY = "gateway.body_cap"
LINGER_SECONDS = 30.0  # nginx's lingering_time: how long a browser's refused form is read
CLOSE = (b"connection", b"close")  # as Starlette encodes the header a response sets


class BodyTooLarge(ProblemHTTPException):
    """The body passed its cap: answered 413, the connection then closed."""


def too_large(detail: str, *, code: str = "body_too_large") -> BodyTooLarge:
    return BodyTooLarge(
        ProblemError(
            Problem(
                type=problem_type("too-large"),
                title="Content too large",
                status=413,
                detail=detail,
                code=code,
            ),
            headers={"Connection": "close"},
        )
    )


def body_too_large(limit: int = JSON_LIMIT) -> BodyTooLarge:
    return too_large(f"The request body is too large: send at most {files.limit_size(limit)}.")


def file_too_large(limit: int, *, here: str = "") -> BodyTooLarge:
    """ "The file is too large: files can be at most 25 MB." (`here` qualifies it)."""
    return too_large(
        f"The file is too large: files can be at most {files.limit_size(limit)}{here}.",
        code="file_too_large",
    )


@dataclass
class Cap:
    """One request's cap, what to answer past it, and how much has come."""

    limit: int
    refusal: BodyTooLarge
    ceiling: int
    declared: int | None
    received: int = 0
    finished: bool = False  # the body's last chunk has been read


def allow(scope: Scope, limit: int, refusal: BodyTooLarge) -> None:
    """An upload route raises (or lowers) its request's cap; the ceiling still holds."""
    cap: Cap | None = scope.get(SCOPE_KEY)
    if cap is not None:
        cap.limit, cap.refusal = min(limit, cap.ceiling), refusal


async def discard_rest(request: Request, *, seconds: float = LINGER_SECONDS) -> None:
    """Read what is left of the body, up to the ceiling and for at most
    `seconds`, and drop it. For a browser's form only, once the answer is
    known: a browser reads no answer before it has sent the whole form, and
    one the connection's reset overtakes is lost (it shows "connection reset")."""
    cap: Cap | None = request.scope.get(SCOPE_KEY)
    if cap is None or cap.finished:
        return
    cap.limit = cap.ceiling
    with contextlib.suppress(TimeoutError, BodyTooLarge):
        async with asyncio.timeout(seconds):
            while not cap.finished:
                if (await request.receive())["type"] != "http.request":
                    return  # the client has gone


class BodyLimits:
    """Pure ASGI, outside everything but the security headers."""

    def __init__(self, app: ASGIApp, *, max_file_bytes: int, limit: int = JSON_LIMIT) -> None:
        self.app = app
        self.limit = limit
        self.max_file_bytes = max_file_bytes
        self.ceiling = max_file_bytes + FORM_ROOM
        self.refused = 0  # answered 413 since start (read by tests)

    def _over_ceiling(self, headers: Headers) -> BodyTooLarge:
        if headers.get("content-type", "").lower().startswith("multipart/"):
            here = " (your integrator's own limit may be lower)"
            return file_too_large(self.max_file_bytes, here=here)
        return body_too_large(self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = _content_length(headers)
        if not declared and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to bound
            return
        if declared is not None and declared > self.ceiling:
            await self._refuse(self._over_ceiling(headers), scope, receive, send)
            return
        cap = Cap(self.limit, body_too_large(self.limit), self.ceiling, declared)
        scope[SCOPE_KEY] = cap
        started = False

        async def counted() -> Message:
            if max(cap.received, cap.declared or 0) > cap.limit:
                raise cap.refusal
            message = await receive()
            if message["type"] == "http.request":
                cap.received += len(message.get("body", b""))
                if cap.received > cap.limit:
                    raise cap.refusal
                cap.finished = not message.get("more_body", False)
            return message

        async def closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not cap.finished and CLOSE not in headers:  # answered before the body ended
                    message = {**message, "headers": [*headers, CLOSE]}
                if message["status"] == 413:
                    self.refused += 1
            await send(message)

        try:
            await self.app(scope, counted, closing)
        except BodyTooLarge as exc:  # escaped the app's handlers: still a 413 if we can
            if started:
                raise
            await self._refuse(exc, scope, receive, send)

    async def _refuse(
        self, refusal: BodyTooLarge, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.refused += 1
        await respond(refusal.error, path=scope["path"])(scope, receive, send)


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None  # the server refuses a malformed one before we see it
    return int(value)

"""Security headers on every response, error pages included."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeaders:
    """Adds the headers a response has not set itself (the docs page sets its own CSP)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self._headers = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Content-Security-Policy": CSP,
            "X-Frame-Options": "DENY",
        }
        if hsts:  # only where TLS is certain; in dev it would pin localhost to https
            self._headers["Strict-Transport-Security"] = HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

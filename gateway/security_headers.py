"""Security headers on every response, error pages included."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages use only our own stylesheet and no script at all; images may come from
# the tenant's branding (any https host) or be data: URIs.
CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeaders:
    """Adds the headers a response has not set itself (the docs page sets its own
    CSP; the stylesheets set their own Cache-Control). Everything else is
    `no-store`: pages carry CSRF tokens and personal data, API answers too."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self._headers = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Content-Security-Policy": CSP,
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cache-Control": "no-store",
        }
        if hsts:  # only where TLS is certain; in dev it would pin localhost to https
            self._headers["Strict-Transport-Security"] = HSTS
        self._raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self._headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # MutableHeaders.setdefault for each, in one pass: ASGI names are lower case.
                headers = list(message.get("headers", ()))
                present = {name for name, _ in headers}
                headers.extend(pair for pair in self._raw if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

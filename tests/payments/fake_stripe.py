"""A local HTTP server that plays Stripe's payment-method domains API
(`GET` and `POST /v1/payment_method_domains`), which localstripe does not
implement (it answers 404 there), so the real SDK's requests can be asserted:
path, form, `Stripe-Account`, the secret key and the pinned API version.

`fail(n, status)` answers the next n requests with that status and
`Stripe-Should-Retry: false` (so the SDK hands the failure straight to us
instead of retrying it itself); a 4xx comes as Stripe's
`invalid_request_error`.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from aiohttp import web


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeStripe:
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    # (account, domain) -> id: what Stripe has, per connected account.
    domains: dict[tuple[str, str], str] = field(default_factory=dict)
    _failures: list[int] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail(self, times: int, status: int) -> None:
        self._failures.extend([status] * times)

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs((await request.read()).decode()).items()}
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), form, dict(request.headers))
        )
        if self._failures:
            status = self._failures.pop(0)
            kind = "invalid_request_error" if status < 500 else "api_error"
            return web.json_response(
                {"error": {"type": kind, "message": f"stand-in failure {status}"}},
                status=status,
                headers={"Stripe-Should-Retry": "false"},
            )
        account = request.headers.get("Stripe-Account", "")
        if request.method == "GET":
            name = request.query.get("domain_name", "")
            found = [
                _domain(pmd, name)
                for (acct, n), pmd in self.domains.items()
                if (acct, n) == (account, name)
            ]
            return web.json_response(
                {"object": "list", "data": found, "has_more": False, "url": request.path}
            )
        name = form["domain_name"]
        pmd = self.domains.setdefault((account, name), f"pmd_{next(self._ids):06d}")
        return web.json_response(_domain(pmd, name))

    def creates(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST"]


def _domain(pmd: str, name: str) -> dict:
    return {
        "id": pmd,
        "object": "payment_method_domain",
        "domain_name": name,
        "enabled": True,
        "livemode": False,
        "apple_pay": {"status": "active"},
        "google_pay": {"status": "active"},
    }


@asynccontextmanager
async def fake_stripe() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    app = web.Application()
    app.router.add_route("*", "/v1/payment_method_domains", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()

"""The local accounting sandbox: an HTTP server that plays QuickBooks Online
(v3 Accounting API, Intuit's OpenID discovery document and token endpoint) and Xero (the
Accounting API, the connections list, the identity token endpoint) for the
endpoints payments uses, so the real SDKs talk to it as they would to the
providers.

It keeps what was created, records every request (method, path, query,
headers, parsed body) for assertions, checks the bearer token on every API
call and the client credentials on every token call, rotates refresh tokens
as both providers do, and can be told to fail: `fail(n, status)` answers the
next n API calls with that status, and `accept_then_fail(entity)` creates the
next such entity but answers 500, as a provider that accepted the record
before the connection dropped.

`make run` starts it (`python -m deploy.books_sandbox --port N`, as localstripe
plays Stripe) and points payments' QuickBooks settings at it; its authorize
page approves at once and sends the browser (or the demo seed) back with a
code, so the real OAuth connection path connects the demo integrator.
tests/payments drive the same server in-process (`serving()`). It keeps
everything in memory: a restart is an empty company.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from aiohttp import web

CLIENT_ID, CLIENT_SECRET = "portal-app", "portal-app-secret"
BODY = web.RequestKey("body", object)
REALM = "9130355377311456"
XERO_TENANT = "6f5d1a7e-0000-4000-8000-00000000cafe"
# What the console shows as the connected company under `make run`: plainly not real books.
SANDBOX_COMPANY = (
    "Local accounting sandbox (not a real QuickBooks company; nothing leaves this machine)"
)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeBooks:
    base: str = ""
    requests: list[Seen] = field(default_factory=list)
    # entity name (Customer, Invoice, Payment, Contacts, Invoices, Payments) -> rows
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    access: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # code -> what it grants
    failures: list[int] = field(default_factory=list)
    accept_then_fail_on: set[str] = field(default_factory=set)
    refusals: dict[str, int] = field(default_factory=dict)  # entity -> refusals left
    stall_on: set[str] = field(default_factory=set)
    stalled: Any = None  # an asyncio.Event the stalled answer waits for
    ids: Any = field(default_factory=lambda: itertools.count(101))
    # The company the connection reports (the console shows it beside "Connected").
    company: str = "Acme AV Books"

    # -- what tests tell it ---------------------------------------------------------

    def approve(self) -> str:
        """The person signed in at the provider and allowed access: a code."""
        code = "code-" + secrets.token_hex(6)
        self.codes[code] = "granted"
        return code

    def fail(self, times: int, status: int = 503) -> None:
        self.failures.extend([status] * times)

    def accept_then_fail(self, entity: str) -> None:
        self.accept_then_fail_on.add(entity)

    def refuse(self, entity: str, times: int = 1) -> None:
        """The next creates of `entity` are refused as invalid (a 400 ValidationFault)."""
        self.refusals[entity] = times

    def stall_after_accept(self, entity: str) -> None:
        """The next create of `entity` is stored, then its answer waits for
        `release()`: the caller may die meanwhile, as a crashed process would."""
        import asyncio

        self.stall_on.add(entity)
        self.stalled = asyncio.Event()

    def release(self) -> None:
        if self.stalled is not None:
            self.stalled.set()

    def revoke_all(self) -> None:
        self.access.clear()
        self.refresh.clear()

    def created(self, entity: str) -> list[dict[str, Any]]:
        return self.rows.get(entity, [])

    def calls(self, method: str, pattern: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # -- tokens -----------------------------------------------------------------------

    def _issue(self) -> dict[str, Any]:
        access, refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        self.access.add(access)
        self.refresh.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 3600,
            "x_refresh_token_expires_in": 8726400,
            "token_type": "Bearer",
        }

    def _grant(self, form: dict[str, str]) -> web.Response:
        if form.get("grant_type") == "authorization_code":
            if self.codes.pop(form.get("code", ""), None) is None:
                return web.json_response({"error": "invalid_grant"}, status=400)
        elif form.get("grant_type") == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in self.refresh:
                return web.json_response({"error": "invalid_grant"}, status=400)
            self.refresh.discard(old)  # rotated: the old one is spent
        else:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        return web.json_response(self._issue())


def _form(text: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(text).items()}


def _new(books: FakeBooks, entity: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    row = dict(body) | {key: str(next(books.ids)), "SyncToken": "0"}
    books.rows.setdefault(entity, []).append(row)
    return row


# A QuickBooks query as python-quickbooks writes it: one equality, maybe MAXRESULTS.
QUERY = re.compile(r"select \* from (\w+)\s*(?:where (\w+) = '((?:[^'\\]|\\.)*)')?", re.IGNORECASE)


def _app(books: FakeBooks) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler):
        text = await request.text()
        ctype = request.headers.get("Content-Type", "")
        body: Any = text
        if "json" in ctype and text:
            body = json.loads(text)
        elif "x-www-form-urlencoded" in ctype:
            body = _form(text)
        books.requests.append(
            Seen(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        request[BODY] = body
        api = "/v3/company/" in request.path or "/api.xro/" in request.path
        if api:
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in books.access:
                return web.json_response({"Fault": {"Error": [], "type": "AUTH"}}, status=401)
            if books.failures:
                return web.Response(status=books.failures.pop(0), text="try again later")
        return await handler(request)

    app = web.Application(middlewares=[record])

    # -- QuickBooks ---------------------------------------------------------------------

    async def discovery(request: web.Request) -> web.Response:
        base = books.base + "/qbo"
        return web.json_response(
            {
                "issuer": "https://oauth.platform.intuit.com/op/v1",
                "authorization_endpoint": base + "/connect/oauth2",
                "token_endpoint": base + "/oauth2/v1/tokens/bearer",
                "revocation_endpoint": base + "/oauth2/v1/tokens/revoke",
                "userinfo_endpoint": base + "/openid_connect/userinfo",
                "jwks_uri": base + "/oauth2/v1/keys",
            }
        )

    async def qbo_token(request: web.Request) -> web.Response:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {basic}":
            return web.json_response({"error": "invalid_client"}, status=401)
        return books._grant(request[BODY])

    async def qbo_query(request: web.Request) -> web.Response:
        match = QUERY.match(request[BODY].strip())
        assert match, request[BODY]
        entity, column, value = match.groups()
        rows = books.created(entity)
        if column:
            wanted = value.replace("\\'", "'").replace("\\\\", "\\")
            rows = [r for r in rows if _field(r, column) == wanted]
        found = {entity: rows} if rows else {}
        return web.json_response({"QueryResponse": found | {"startPosition": 1}})

    async def qbo_create(request: web.Request) -> web.Response:
        entity = {"customer": "Customer", "invoice": "Invoice", "payment": "Payment"}[
            request.match_info["entity"]
        ]
        if books.refusals.get(entity):
            books.refusals[entity] -= 1
            fault = {"Message": "A business validation error has occurred", "code": "6000"}
            fault["Detail"] = "Business Validation Error: Select a product or service"
            return web.json_response(
                {"Fault": {"Error": [fault], "type": "ValidationFault"}}, status=400
            )
        row = _new(books, entity, request[BODY], "Id")
        if entity in books.stall_on:
            books.stall_on.discard(entity)
            await books.stalled.wait()
            return web.Response(status=500, text="too late")
        if entity in books.accept_then_fail_on:
            books.accept_then_fail_on.discard(entity)
            return web.Response(status=500, text="the connection dropped")
        return web.json_response({entity: row, "time": "2026-03-12T10:00:00Z"})

    async def company_info(request: web.Request) -> web.Response:
        info = {"Id": "1", "CompanyName": books.company, "SyncToken": "0"}
        return web.json_response({"CompanyInfo": info})

    async def authorize(request: web.Request) -> web.Response:
        """Intuit's consent screen, approved at once: back to the app with a
        code, the state it sent and the company (realm) chosen."""
        back = request.query.get("redirect_uri", "")
        if not back.startswith(("http://", "https://")):
            return web.json_response({"error": "invalid_request"}, status=400)
        query = urlencode(
            {"code": books.approve(), "state": request.query.get("state", ""), "realmId": REALM}
        )
        raise web.HTTPFound(f"{back}{'&' if '?' in back else '?'}{query}")

    app.router.add_get("/qbo/discovery", discovery)
    app.router.add_get("/qbo/connect/oauth2", authorize)
    app.router.add_post("/qbo/oauth2/v1/tokens/bearer", qbo_token)
    app.router.add_post(f"/qbo/v3/company/{REALM}/query", qbo_query)
    app.router.add_get(f"/qbo/v3/company/{REALM}/companyinfo/{REALM}", company_info)
    app.router.add_post(f"/qbo/v3/company/{REALM}/{{entity}}", qbo_create)

    # -- Xero ---------------------------------------------------------------------------

    async def xero_token(request: web.Request) -> web.Response:
        form = request[BODY]
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        return books._grant(form)

    async def connections(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if auth[7:] not in books.access:
            return web.json_response({"Title": "Unauthorized"}, status=401)
        when = "2026-03-12T10:00:00"
        return web.json_response(
            [
                {
                    "id": "c0ffee00-0000-4000-8000-000000000001",
                    "tenantId": XERO_TENANT,
                    "tenantType": "ORGANISATION",
                    "tenantName": "Acme AV Ltd",
                    "createdDateUtc": when,
                    "updatedDateUtc": when,
                }
            ]
        )

    keys = {"Contacts": "ContactID", "Invoices": "InvoiceID", "Payments": "PaymentID"}

    async def xero_list(request: web.Request) -> web.Response:
        if request.headers.get("xero-tenant-id") != XERO_TENANT:
            return web.json_response({"Title": "Forbidden"}, status=403)
        entity = request.match_info["entity"]
        rows = books.created(entity)
        if "InvoiceNumbers" in request.query:
            numbers = request.query["InvoiceNumbers"].split(",")
            rows = [r for r in rows if r.get("InvoiceNumber") in numbers]
        if "where" in request.query:
            column, value = re.fullmatch(r'(\w+)=="(.*)"', request.query["where"]).groups()
            rows = [r for r in rows if r.get(column) == value]
        return web.json_response({entity: rows})

    async def xero_create(request: web.Request) -> web.Response:
        if request.headers.get("xero-tenant-id") != XERO_TENANT:
            return web.json_response({"Title": "Forbidden"}, status=403)
        entity = request.match_info["entity"]
        body = request[BODY]
        items = body.get(entity, [body])  # create_payment sends one Payment, not a list
        made = [_new(books, entity, item, keys[entity]) for item in items]
        if entity in books.accept_then_fail_on:
            books.accept_then_fail_on.discard(entity)
            return web.Response(status=500, text="the connection dropped")
        return web.json_response({entity: made})

    app.router.add_post("/xero/connect/token", xero_token)
    app.router.add_get("/xero/Connections", connections)
    app.router.add_get("/xero/api.xro/2.0/{entity}", xero_list)
    app.router.add_put("/xero/api.xro/2.0/{entity}", xero_create)
    app.router.add_post("/xero/api.xro/2.0/{entity}", xero_create)
    return app


def _field(row: dict[str, Any], column: str) -> Any:
    value = row.get(column)
    return value.get("value") if isinstance(value, dict) else value


@asynccontextmanager
async def serving() -> AsyncIterator[FakeBooks]:
    """The fake on a free loopback port, in this event loop (the SDKs run in threads)."""
    books = FakeBooks()
    runner = web.AppRunner(_app(books), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    books.base = f"http://127.0.0.1:{port}"
    try:
        yield books
    finally:
        await runner.cleanup()


def main() -> None:
    """`python -m deploy.books_sandbox --port N`: the sandbox on its own, for `make run`."""
    import argparse

    parser = argparse.ArgumentParser(description="the local QuickBooks / Xero sandbox")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    books = FakeBooks(base=f"http://127.0.0.1:{args.port}", company=SANDBOX_COMPANY)
    web.run_app(_app(books), host="127.0.0.1", port=args.port, access_log=None, print=None)


def payments_env(base: str) -> dict[str, str]:
    """Payments' settings for the sandbox at `base`: QuickBooks Online offered,
    its discovery document, token and API here (the master keys its tokens are
    sealed under come from the suite's data dir, as every service's do)."""
    return {
        "PAYMENTS_QUICKBOOKS_CLIENT_ID": CLIENT_ID,
        "PAYMENTS_QUICKBOOKS_CLIENT_SECRET": CLIENT_SECRET,
        "PAYMENTS_QUICKBOOKS_ENVIRONMENT": base + "/qbo/discovery",
        "PAYMENTS_QUICKBOOKS_API_BASE": base + "/qbo/v3",
        # The sandbox is plain HTTP on loopback; requests-oauthlib refuses that otherwise.
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
    }


if __name__ == "__main__":
    main()

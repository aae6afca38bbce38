"""A local server that plays the Stripe calls localstripe cannot: bank-debit
PaymentMethods (us_bank_account, bacs_debit) with `mandate_data`, the intent's
creation, retrieval and cancellation. It records what Stripe would receive.

A debit's intent answers `processing`, as Stripe's does once a debit is
submitted; with `microdeposits` set, an ACH intent answers as Stripe's does
for an account typed by hand (no Financial Connections): `requires_action`
with `next_action.verify_with_microdeposits` (the hosted verification page,
the deposit's arrival date, its type)."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from aiohttp import web

ARRIVES_IN_SECONDS = 2 * 86_400  # Stripe: micro-deposits land in 1-2 business days


@dataclass
class FakeDebits:
    url: str = ""
    microdeposits: str = ""  # "", "descriptor_code" or "amounts"
    forms: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    intents: dict[str, dict] = field(default_factory=dict)  # idempotency key -> intent
    methods: dict[str, dict] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    # Ids unique across tests: the payments database is shared by the session.
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs((await request.read()).decode()).items()}
        self.forms.append((request.method + " " + request.path, form, dict(request.headers)))
        if request.path.startswith("/v1/payment_methods/"):
            return web.json_response(self.methods[request.path.rsplit("/", 1)[1]])
        if request.path == "/v1/payment_methods":
            kind = form["type"]
            pm = {
                "id": f"pm_{self.run}{next(self.ids):08d}",
                "object": "payment_method",
                "type": kind,
            }
            pm[kind] = {"last4": form[f"{kind}[account_number]"][-4:]}
            self.methods[pm["id"]] = pm
            return web.json_response(pm)
        if request.path.startswith("/v1/payment_intents/"):
            return self._existing(request.path.removeprefix("/v1/payment_intents/"))
        key = request.headers.get("Idempotency-Key", "")
        if key not in self.intents:
            self.intents[key] = self._new_intent(form)
        return web.json_response(self.intents[key])

    def _new_intent(self, form: dict[str, str]) -> dict:
        n = next(self.ids)
        intent = {
            "id": f"pi_{self.run}{n:08d}",
            "object": "payment_intent",
            "status": "processing",
            "client_secret": f"pi_{self.run}{n:08d}_secret_x",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "created": int(time.time()),
            # Echoed as Stripe does: our ids, which route a platform event.
            "metadata": {
                k.removeprefix("metadata[").rstrip("]"): v
                for k, v in form.items()
                if k.startswith("metadata[")
            },
            "next_action": None,
        }
        if self.microdeposits and form.get("payment_method_types[0]") == "us_bank_account":
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "verify_with_microdeposits",
                "verify_with_microdeposits": {
                    "arrival_date": int(time.time()) + ARRIVES_IN_SECONDS,
                    "hosted_verification_url": f"https://payments.stripe.com/microdeposit/pacs_test_{n:08d}",
                    "microdeposit_type": self.microdeposits,
                },
            }
        return intent

    def _existing(self, tail: str) -> web.Response:
        intent_id, _, verb = tail.partition("/")
        intent = next((i for i in self.intents.values() if i["id"] == intent_id), None)
        if intent is None:
            return _error(404, "resource_missing", f"No such payment_intent: '{intent_id}'")
        if verb == "cancel":
            if intent["status"] not in {"requires_action", "requires_payment_method"}:
                return _error(
                    400,
                    "payment_intent_unexpected_state",
                    f"You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}.",
                )
            intent.update(status="canceled", next_action=None, canceled_at=int(time.time()))
        return web.json_response(intent)

    def posted(self, path: str) -> list[dict[str, str]]:
        return [f for p, f, _ in self.forms if p == f"POST {path}"]


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"error": {"type": "invalid_request_error", "code": code, "message": message}}
    return web.json_response(body, status=status)


async def serve_debits() -> AsyncIterator[FakeDebits]:
    fake = FakeDebits()
    app = web.Application()
    app.router.add_route("*", "/v1/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield fake
    finally:
        await runner.cleanup()

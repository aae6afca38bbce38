"""Stripe, through its official SDK: the one file that talks to it.

Direct charges on each integrator's own (Standard, connected) account: every
call names the account with `Stripe-Account`, and no application fee is ever
taken. Offline the same SDK talks to localstripe (PAYMENTS_STRIPE_API_BASE),
which ignores the account header; everything else is the real request.

Webhook signatures are checked here, on the raw bytes, by Stripe's rule
(domain_webhooks.py; tolerance 300 s).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from services.chassis.errors import InvalidArgument, Unauthenticated
from services.payments.domain_bank_debits import BankDebit, Verification, verification_of
from services.payments.domain_webhooks import signature_problem

API_VERSION = "2025-03-31.basil"  # pinned: partial payments on invoices are first-class from here
TOLERANCE_SECONDS = 300


class DomainRefused(Exception):
    """Stripe refused the request itself (4xx but 429): retrying changes nothing."""


class StripeUnavailable(Exception):
    """No answer, a 5xx or a 429: worth trying again later."""


@dataclass(frozen=True)
class MethodInfo:
    type: str  # card, us_bank_account, bacs_debit, sepa_debit
    funding: str  # credit, debit, prepaid, unknown ("" for bank debits)
    brand: str
    last4: str


@dataclass(frozen=True)
class IntentInfo:
    id: str
    status: str  # Stripe's: requires_payment_method, processing, succeeded, ...
    client_secret: str
    amount: int
    currency: str
    created: datetime
    failure_code: str
    failure_message: str
    metadata: dict[str, str]
    next_action: str = ""  # requires_action: "verify_with_microdeposits", "use_stripe_sdk", ...
    verification: Verification | None = None  # the micro-deposit step, if that is it


def plain(obj: Any) -> dict[str, Any]:
    """A StripeObject as the plain dict it was sent as (webhooks arrive as dicts)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def intent_info(obj: Any) -> IntentInfo:
    obj = plain(obj)
    error = obj.get("last_payment_error") or {}
    action = obj.get("next_action") or {}
    return IntentInfo(
        id=obj["id"],
        status=obj["status"],
        client_secret=obj.get("client_secret") or "",
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        created=datetime.fromtimestamp(int(obj.get("created") or 0), UTC),
        failure_code=str(error.get("decline_code") or error.get("code") or ""),
        failure_message=str(error.get("message") or ""),
        metadata=dict(obj.get("metadata") or {}),
        next_action=str(action.get("type") or "") if isinstance(action, dict) else "",
        verification=verification_of(action),
    )


class StripeGateway:
    def __init__(self, *, api_key: str, webhook_secret: str, api_base: str = "") -> None:
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            api_key,
            stripe_version=API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(allow_sync_methods=False),
            max_network_retries=2,
        )

    @staticmethod
    def _options(account: str, idempotency_key: str = "") -> dict[str, Any]:
        options: dict[str, Any] = {}
        if account:
            options["stripe_account"] = account
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        return options

    async def payment_method(self, *, account: str, payment_method_id: str) -> MethodInfo:
        pm = await self._client.v1.payment_methods.retrieve_async(
            payment_method_id,
            options=self._options(account),  # type: ignore[arg-type]
        )
        pm = plain(pm)
        # localstripe answers a card made by its Stripe.js stand-in (createToken)
        # as the legacy Card itself, brand and funding at the top; Stripe
        # answers every id as a PaymentMethod, the card's details under "card".
        card = pm if pm.get("object") == "card" else (pm.get("card") or {})
        return MethodInfo(
            type=pm["type"],
            funding=str(card.get("funding") or ""),
            brand=str(card.get("brand") or ""),
            last4=str(card.get("last4") or (pm.get(pm["type"]) or {}).get("last4") or ""),
        )

    async def test_card(
        self, *, account: str, number: str, exp_month: int, exp_year: int, cvc: str
    ) -> str:
        """Offline only (localstripe): a card PaymentMethod from a test card
        number, standing in for Stripe.js's createPaymentMethod, which the
        localstripe stand-in does not implement. Real card numbers never reach
        our servers: with Stripe the page's Payment Element creates the method."""
        pm = await self._client.v1.payment_methods.create_async(
            params={
                "type": "card",
                "card": {
                    "number": number,
                    "exp_month": exp_month,
                    "exp_year": exp_year,
                    "cvc": cvc,
                },
            },  # type: ignore[typeddict-item]
            options=self._options(account),  # type: ignore[arg-type]
        )
        return str(pm["id"])

    async def bank_debit_method(self, *, account: str, debit: BankDebit) -> str:
        """A us_bank_account or bacs_debit PaymentMethod from the details the
        client typed: Stripe's documented server-side path (no Stripe.js
        stand-in plays Financial Connections or Bacs' hosted mandate form).
        localstripe refuses both types (it knows card and sepa_debit only)."""
        billing: dict[str, Any] = {"name": debit.account_holder_name}
        if debit.email:
            billing["email"] = debit.email
        details: dict[str, Any]
        if debit.method.value == "us_bank_account":
            details = {
                "account_holder_type": "individual",
                "routing_number": debit.routing_number,
                "account_number": debit.account_number,
            }
        else:
            details = {"sort_code": debit.sort_code, "account_number": debit.account_number}
        params: dict[str, Any] = {
            "type": debit.method.value,
            debit.method.value: details,
            "billing_details": billing,
        }
        pm = await self._client.v1.payment_methods.create_async(
            params=params,  # type: ignore[arg-type]
            options=self._options(account),  # type: ignore[arg-type]
        )
        return str(pm["id"])

    async def create_intent(
        self,
        *,
        account: str,
        amount_minor: int,
        currency: str,
        payment_method_id: str,
        method_type: str,
        metadata: dict[str, str],
        idempotency_key: str,
        mandate: BankDebit | None = None,
    ) -> IntentInfo:
        """Create and confirm in one call (the idempotency key makes a retry the
        same intent). Only parameters Stripe and localstripe both accept, but
        a bank debit's `mandate_data` (the client's online acceptance), which
        Stripe requires for ACH and Bacs and localstripe does not know."""
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "payment_method": payment_method_id,
            "payment_method_types": [method_type],
            "confirm": True,
            "metadata": metadata,
        }
        if mandate is not None:
            params["mandate_data"] = {
                "customer_acceptance": {
                    "type": "online",
                    "online": {"ip_address": mandate.ip_address, "user_agent": mandate.user_agent},
                }
            }
        intent = await self._client.v1.payment_intents.create_async(
            params=params,  # type: ignore[arg-type]
            options=self._options(account, idempotency_key),  # type: ignore[arg-type]
        )
        return intent_info(intent)

    async def retrieve_intent(self, *, account: str, intent_id: str) -> IntentInfo:
        intent = await self._client.v1.payment_intents.retrieve_async(
            intent_id,
            options=self._options(account),  # type: ignore[arg-type]
        )
        return intent_info(intent)

    async def cancel_intent(self, *, account: str, intent_id: str) -> IntentInfo:
        """Cancel a PaymentIntent the client gave up (a debit awaiting
        verification); Stripe answers the canceled intent. Canceling one
        already canceled is refused by Stripe: the caller re-fetches then."""
        intent = await self._client.v1.payment_intents.cancel_async(
            intent_id,
            params={"cancellation_reason": "abandoned"},
            options=self._options(account),  # type: ignore[arg-type]
        )
        return intent_info(intent)

    async def refund(
        self, *, account: str, intent_id: str, amount_minor: int, idempotency_key: str
    ) -> str:
        refund = await self._client.v1.refunds.create_async(
            params={"payment_intent": intent_id, "amount": amount_minor},
            options=self._options(account, idempotency_key),  # type: ignore[arg-type]
        )
        return str(refund["id"])

    async def register_domain(self, *, account: str, domain: str) -> str:
        """Apple Pay and Google Pay on an embedded form need each domain
        registered on the account that takes the payment. Looked up first, so
        a retry after an answer that was lost finds the one that was made.
        Raises DomainRefused (Stripe will not take it: no point retrying) or
        StripeUnavailable (try again later)."""
        options = self._options(account)
        try:
            found = await self._client.v1.payment_method_domains.list_async(
                params={"domain_name": domain, "limit": 1},
                options=options,  # type: ignore[arg-type]
            )
            if found.data:
                return str(found.data[0]["id"])
            made = await self._client.v1.payment_method_domains.create_async(
                params={"domain_name": domain},
                options=options,  # type: ignore[arg-type]
            )
        except (
            stripe.InvalidRequestError,
            stripe.AuthenticationError,
            stripe.PermissionError,
        ) as exc:
            raise DomainRefused(exc.user_message or str(exc)) from None
        except stripe.StripeError as exc:
            raise StripeUnavailable(exc.user_message or type(exc).__name__) from None
        return str(made["id"])

    def verify(self, payload: bytes, signature: str) -> dict[str, Any]:
        """The event, if Stripe signed these exact bytes recently; else refused."""
        if not self._webhook_secret:
            raise Unauthenticated("webhooks are not configured")
        problem = signature_problem(
            payload, signature, self._webhook_secret, now=time.time(), tolerance=TOLERANCE_SECONDS
        )
        if problem is not None:
            raise Unauthenticated(problem)
        try:
            event = json.loads(payload)
        except ValueError:
            raise InvalidArgument("the webhook body is not JSON", field="payload") from None
        if not isinstance(event, dict) or not str(event.get("id", "")).startswith("evt_"):
            raise InvalidArgument("the webhook body is not a Stripe event", field="payload")
        return event

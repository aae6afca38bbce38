"""Pay now by bank debit: the details the client typed checked against what
the integrator offers, then the PaymentMethod made on their Stripe account.
Everything after (the amount, the intent, its states) is pay now's own."""

from __future__ import annotations

from typing import Any

import stripe

from services.chassis.errors import InvalidTransition
from services.payments import domain_bank_debits
from services.payments.domain_bank_debits import BankDebit
from services.payments.models import Invoice, PaymentSettings
from services.payments.stripe_gateway import StripeGateway


def check_debit(fields: dict[str, Any], invoice: Invoice, settings: PaymentSettings) -> BankDebit:
    return domain_bank_debits.check_bank_debit(
        str(fields.get("method", "")),
        currency=invoice.currency,
        ach_enabled=settings.ach_debit_enabled,
        bacs_enabled=settings.bacs_debit_enabled,
        account_holder_name=str(fields.get("account_holder_name", "")),
        email=str(fields.get("email", "")),
        routing_number=str(fields.get("routing_number", "")),
        sort_code=str(fields.get("sort_code", "")),
        account_number=str(fields.get("account_number", "")),
        mandate_accepted=bool(fields.get("mandate_accepted")),
        ip_address=str(fields.get("ip_address", "")),
        user_agent=str(fields.get("user_agent", "")),
    )


async def make_debit_method(stripe_api: StripeGateway, account: str, debit: BankDebit) -> str:
    """The PaymentMethod's id; Stripe refusing the details is the client's to fix."""
    try:
        return await stripe_api.bank_debit_method(account=account, debit=debit)
    except stripe.InvalidRequestError as exc:
        raise InvalidTransition(
            "the bank could not set up this debit: check the details, or pay by card "
            f"({exc.user_message or 'refused'})",
            field="bank_debit",
        ) from None

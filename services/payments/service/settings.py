"""The tenant's payment settings: the Stripe connection and the pay-now rules."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import delete, select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists, InvalidArgument
from services.chassis.money import currency_code
from services.chassis.timefmt import zone
from services.payments import domain_fees, domain_invoices, domain_plan, domain_variations
from services.payments.models import PaymentSettings, StripeAccount
from services.payments.service.common import Sessions, load_settings
from services.payments.service.method_domains import wake_domains

MAX_MINIMUM_MINOR = 10**10


async def get_settings(*, sessions: Sessions, principal: Principal) -> PaymentSettings:
    tenant_id = principal.require_reader()
    async with UnitOfWork(sessions, tenant_id) as uow:
        settings = await load_settings(uow)
        await uow.commit()
    return settings


async def update_settings(
    *, sessions: Sessions, principal: Principal, changes: dict[str, Any]
) -> PaymentSettings:
    tenant_id = principal.require_editor("finance")
    async with UnitOfWork(sessions, tenant_id) as uow:
        settings = await load_settings(uow, lock=True)
        for name, value in _checked(changes, settings).items():
            setattr(settings, name, value)
        domain_fees.check_fee_policy(
            domain_fees.FeePolicy(settings.card_surcharge_bps, settings.bank_discount_bps),
            region=settings.region,
        )
        if "stripe_account_id" in changes:
            await _route_account(uow, settings)
            await wake_domains(uow)  # the tenant's hosts, registered on this account
        await uow.commit()
    return settings


def _checked(changes: dict[str, Any], settings: PaymentSettings) -> dict[str, Any]:
    return {name: _CHECKS[name](value, name) for name, value in changes.items()}


def _matching(pattern: re.Pattern[str], *, upper: bool = False, required: bool = False):
    def check(value: Any, name: str) -> str:
        text = str(value).strip()
        text = text.upper() if upper else text
        if (required or text) and not pattern.match(text):
            raise InvalidArgument(_HINTS[name], field=name)
        return text

    return check


def _minimum(value: int, name: str) -> int:
    if not 0 <= value <= MAX_MINIMUM_MINOR:
        raise InvalidArgument(_HINTS[name], field=name)
    return value


def _terms(value: int, name: str) -> int:
    domain_invoices.due_date(date(2000, 1, 1), value)  # refuses what is out of range
    return value


def _plan(value: Any, name: str) -> list[dict[str, Any]]:
    plan = domain_plan.check_plan([(m.label, m.trigger, m.share_bps) for m in value])
    return [{"label": m.label, "trigger": m.trigger.value, "share_bps": m.share_bps} for m in plan]


def _currency(value: str, name: str) -> str:
    try:
        return currency_code(value)
    except ValueError:
        raise InvalidArgument(_HINTS[name], field=name) from None


def _time_zone(value: str, name: str) -> str:
    if zone(value).key != value:
        raise InvalidArgument(_HINTS[name], field=name)
    return value


def _variation_rule(value: str, name: str) -> str:
    return domain_variations.check_rule(str(value)).value


def _bps(value: int, name: str) -> int:
    return int(value)  # the fee policy is checked as a whole, against the region


_CHECKS = {
    "stripe_account_id": _matching(re.compile(r"^acct_[A-Za-z0-9]{1,60}$")),
    "publishable_key": _matching(re.compile(r"^pk_(test|live)_[A-Za-z0-9]{1,180}$")),
    "region": _matching(re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"), upper=True, required=True),
    "invoice_prefix": _matching(re.compile(r"^[A-Z0-9]{1,10}$"), upper=True, required=True),
    "minimum_payment_minor": _minimum,
    "card_surcharge_bps": _bps,
    "bank_discount_bps": _bps,
    "default_terms_days": _terms,
    "default_plan": _plan,
    "currency": _currency,
    "time_zone": _time_zone,
    "variation_rule": _variation_rule,
    "ach_debit_enabled": lambda value, name: bool(value),
    "bacs_debit_enabled": lambda value, name: bool(value),
}
UPDATABLE = tuple(_CHECKS)

_HINTS = {
    "stripe_account_id": "the Stripe account id looks like acct_1A2b3C (see your Stripe dashboard)",
    "publishable_key": "the publishable key starts with pk_test_ or pk_live_",
    "region": "the region is a country code such as GB or US, or a US state such as US-NY",
    "invoice_prefix": "the invoice prefix is up to 10 capital letters or digits, such as INV",
    "minimum_payment_minor": "the minimum payment must be zero or more (and below 100,000,000)",
    "currency": "the currency must be an ISO 4217 code such as USD",
    "time_zone": "the time zone must be one such as Europe/London",
}


async def _route_account(uow: UnitOfWork, settings: PaymentSettings) -> None:
    """Keep the webhook routing table in step: one tenant per account."""
    await uow.session.execute(
        delete(StripeAccount).where(StripeAccount.tenant_id == settings.tenant_id)
    )
    if not settings.stripe_account_id:
        return
    owner = await uow.session.scalar(
        select(StripeAccount.tenant_id).where(
            StripeAccount.account_id == settings.stripe_account_id
        )
    )
    if owner is not None:
        raise AlreadyExists(
            "this Stripe account is connected to another integrator", field="stripe_account_id"
        )
    uow.session.add(
        StripeAccount(account_id=settings.stripe_account_id, tenant_id=settings.tenant_id)
    )

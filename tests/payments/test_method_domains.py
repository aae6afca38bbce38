"""A new integrator's portal host becomes a payment-method domain on its
Stripe account (Apple Pay needs it): recorded once from identity's
`identity.tenant.onboarded`, registered by the job once an account is
connected, retried after Stripe fails, refused for good when Stripe says no,
and registered again when another account is connected.

localstripe has no /v1/payment_method_domains (it answers 404), so the real
SDK talks to tests/payments/fake_stripe.py, which records what Stripe would
receive."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from portal.identity.v1.events_pb2 import TenantOnboarded
from portal.payments.v1 import payments_pb2 as pb
from sqlalchemy import update

from services.chassis.db import UnitOfWork
from services.payments.domain_sync import RetryPolicy
from services.payments.models import PaymentMethodDomain
from services.payments.service import register_due_domains
from services.payments.stripe_gateway import API_VERSION, StripeGateway
from tests.payments.conftest import BASE_DOMAIN, Integrator
from tests.payments.fake_stripe import FakeStripe, fake_stripe

POLICY = RetryPolicy(base_seconds=60, cap_seconds=3600)
KEY = "sk_test_platform"


@pytest.fixture
async def stripe() -> AsyncIterator[FakeStripe]:
    async with fake_stripe() as fake:
        yield fake


def gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(api_key=KEY, webhook_secret="whsec_x", api_base=fake.url)


async def onboarded(acme: Integrator) -> str:
    slug = f"t{uuid.uuid4().hex[:10]}"
    await acme.deliver(TenantOnboarded(tenant_id=acme.tenant_id, slug=slug, display_name="Acme"))
    return f"{slug}.{BASE_DOMAIN}"


async def connect(acme: Integrator) -> str:
    account = f"acct_{uuid.uuid4().hex[:16]}"
    await acme(
        "UpdatePaymentSettings",
        pb.UpdatePaymentSettingsRequest(
            settings=pb.PaymentSettings(stripe_account_id=account),
            update_mask=FieldMask(paths=["stripe_account_id"]),
        ),
        acme.finance,
    )
    return account


async def row(acme: Integrator, domain: str) -> PaymentMethodDomain:
    async with UnitOfWork(acme.svc.sessions, None) as uow:
        found = await uow.session.get(PaymentMethodDomain, domain)
    assert found is not None
    return found


async def due_now(acme: Integrator, domain: str) -> None:
    async with UnitOfWork(acme.svc.sessions, None) as uow:
        await uow.session.execute(
            update(PaymentMethodDomain)
            .where(PaymentMethodDomain.domain == domain)
            .values(next_attempt_at=PaymentMethodDomain.created_at)
        )
        await uow.commit()


async def run_pass(acme: Integrator, fake: FakeStripe) -> None:
    await register_due_domains(sessions=acme.svc.sessions, stripe_api=gateway(fake), policy=POLICY)


async def test_the_host_is_registered_once_on_the_connected_account_after_stripe_fails(
    acme: Integrator, stripe: FakeStripe
):
    domain = await onboarded(acme)
    await acme.deliver(
        TenantOnboarded(tenant_id=acme.tenant_id, slug=domain.split(".")[0])
    )  # a redelivery
    await run_pass(acme, stripe)
    assert stripe.seen == []  # no Stripe account yet: nothing to register on
    assert (await row(acme, domain)).state == "pending"

    account = await connect(acme)
    stripe.fail(1, 503)
    await run_pass(acme, stripe)
    waiting = await row(acme, domain)
    assert (waiting.state, waiting.attempts) == ("pending", 1)
    assert "503" in waiting.last_error and waiting.next_attempt_at > waiting.created_at
    await run_pass(acme, stripe)
    assert len(stripe.seen) == 1  # backing off: not due again yet

    await due_now(acme, domain)
    await run_pass(acme, stripe)
    done = await row(acme, domain)
    assert (done.state, done.account_id, done.last_error) == ("registered", account, "")
    (create,) = stripe.creates()
    assert create.path == "/v1/payment_method_domains"
    assert create.form == {"domain_name": domain}
    assert create.headers["Stripe-Account"] == account
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.headers["Stripe-Version"] == API_VERSION
    assert done.stripe_id == stripe.domains[(account, domain)]

    await due_now(acme, domain)
    await run_pass(acme, stripe)
    assert len(stripe.creates()) == 1  # registered: never again on this account


async def test_a_lost_answer_is_found_on_the_retry_not_created_twice(
    acme: Integrator, stripe: FakeStripe
):
    domain = await onboarded(acme)
    account = await connect(acme)
    stripe.domains[(account, domain)] = "pmd_made_before_the_answer_was_lost"
    await run_pass(acme, stripe)
    done = await row(acme, domain)
    assert (done.state, done.stripe_id) == ("registered", "pmd_made_before_the_answer_was_lost")
    assert stripe.creates() == []


async def test_a_refused_host_fails_and_another_account_registers_it(
    acme: Integrator, stripe: FakeStripe
):
    domain = await onboarded(acme)
    await connect(acme)
    stripe.fail(1, 400)
    await run_pass(acme, stripe)
    refused = await row(acme, domain)
    assert (refused.state, refused.attempts) == ("failed", 1)
    assert "stand-in failure 400" in refused.last_error
    await due_now(acme, domain)
    await run_pass(acme, stripe)
    assert len(stripe.seen) == 1  # refused for good on that account

    other = await connect(acme)
    await run_pass(acme, stripe)
    again = await row(acme, domain)
    assert (again.state, again.account_id) == ("registered", other)
    assert stripe.creates()[-1].headers["Stripe-Account"] == other

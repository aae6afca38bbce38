"""The accounting sync through payments' gRPC surface on real PostgreSQL, with
the real SDKs (python-quickbooks + intuit-oauth, xero-python) posting to a
local server that plays both providers (tests/payments/fake_books.py).

Each test connects one integrator through the OAuth2 flow, lets payments'
own events queue the records (as its consumer would deliver them), and runs
the sync job's pass for that tenant until nothing is due.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import grpc
import pytest
from portal.payments.v1 import events_pb2 as payments_events
from portal.payments.v1 import payments_pb2 as pb
from portal.payments.v1 import payments_pb2_grpc

from deploy import books_sandbox as fake_books
from deploy.books_sandbox import CLIENT_ID, CLIENT_SECRET, REALM, XERO_TENANT, FakeBooks
from services.chassis.auth import PrincipalSigner, PrincipalVerifier
from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.chassis.jobs import JobRunner
from services.chassis.sealing import MasterKeys
from services.payments import jobs
from services.payments.accounting.quickbooks import QuickBooksProvider
from services.payments.accounting.xero import XeroProvider
from services.payments.domain_sync import RetryPolicy
from services.payments.grpc_api import PaymentsServicer
from services.payments.models import AccountingConnection
from services.payments.service import Accounting, sync_due
from services.payments.service.accounting import open_tokens
from services.payments.service.posting import sync_tenant
from tests.payments.conftest import SERVICE_NAME, Integrator, Payments

REDIRECT = "https://acme.portal.test/console/accounting/callback"
KEYS = MasterKeys({"k1": os.urandom(32)}, "k1")
# Backoffs in tenths of a second, so a failing server recovers within a test.
POLICY = RetryPolicy(max_attempts=4, base_seconds=0.05, cap_seconds=0.2, lease_seconds=0.4)


@pytest.fixture(scope="session")
async def books() -> AsyncIterator[FakeBooks]:
    # The fake speaks plain HTTP on loopback; requests-oauthlib (under
    # python-quickbooks) refuses that unless told this is not production.
    before = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        async with fake_books.serving() as server:
            yield server
    finally:
        if before is None:
            os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)


@pytest.fixture(scope="session")
async def synced(payments_url: str, keypair: tuple[str, str], books: FakeBooks):
    """Payments' servicer with both providers pointed at the fake."""
    private, public = keypair
    engine = make_engine(payments_url, pool_size=5)
    sessions = make_sessionmaker(engine)
    accounting = Accounting(
        providers={
            "quickbooks": QuickBooksProvider(
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                environment=books.base + "/qbo/discovery",
                api_base=books.base + "/qbo/v3",
                timeout=5,
            ),
            "xero": XeroProvider(
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                api_base=books.base + "/xero",
                identity_base=books.base + "/xero",
                login_base=books.base + "/xero-login",
                timeout=5,
            ),
        },
        keys=KEYS,
        policy=POLICY,
    )
    servicer = PaymentsServicer(sessions, None, accounting)
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public),
        register=lambda srv: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(servicer, srv),
        service_names=[SERVICE_NAME],
    )
    channel = open_channel(f"127.0.0.1:{port}")
    svc = Payments(
        url=payments_url,
        stub=payments_pb2_grpc.PaymentsServiceStub(channel),
        caller=Caller(PrincipalSigner(private), timeout=20),
        sessions=sessions,
    )
    try:
        yield svc, accounting, engine
    finally:
        await channel.close()
        await server.stop(None)
        await engine.dispose()


@pytest.fixture
def fresh(books: FakeBooks) -> FakeBooks:
    """The fake's books emptied: each test starts with an empty company."""
    base = books.base
    books.__init__()  # type: ignore[misc]
    books.base = base
    return books


class Synced(Integrator):
    """An integrator whose books are the fake's; `accounting` is the servicer's."""

    accounting: Accounting
    books: FakeBooks

    async def connect(self, provider: str) -> pb.AccountingConnection:
        started = await self(
            "StartAccountingConnection",
            pb.StartAccountingConnectionRequest(provider=provider, redirect_uri=REDIRECT),
            self.finance,
        )
        url = urlparse(started.authorize_url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == REDIRECT
        done = await self(
            "CompleteAccountingConnection",
            pb.CompleteAccountingConnectionRequest(
                state=query["state"],
                code=self.books.approve(),
                realm_id=REALM if provider == "quickbooks" else "",
            ),
            self.finance,
        )
        return done.connection

    async def relay(self) -> None:
        """Payments' own invoice.issued and payment.succeeded events, from its
        outbox to its handlers, each delivered twice (at-least-once)."""
        for kind in (payments_events.InvoiceIssued, payments_events.PaymentSucceeded):
            for payload in await self.svc.events(self.tenant_id, kind):
                await self.deliver(payload)
                await self.deliver(payload)

    async def settle(self, passes: int = 30) -> list[pb.SyncRecord]:
        """The job's pass for this tenant until nothing is pending."""
        for _ in range(passes):
            await sync_tenant(
                sessions=self.svc.sessions, accounting=self.accounting, tenant_id=self.tenant_id
            )
            if not await self.records("pending"):
                break
            await asyncio.sleep(0.06)
        return await self.records()

    async def records(self, state: str = "") -> list[pb.SyncRecord]:
        answer = await self("ListSyncRecords", pb.ListSyncRecordsRequest(state=state), self.staff())
        return list(answer.records)

    async def paid_deposit(self) -> pb.Invoice:
        """The proposal accepted (the deposit invoice issues itself) and paid by transfer."""
        await self.accept(1_200_000, 200_000)
        (deposit,) = await self.invoices()
        await self.pay_offline(deposit.id, deposit.total.amount_minor)
        await self.relay()
        return deposit


@pytest.fixture
def acme(synced, fresh: FakeBooks) -> Synced:
    svc, accounting, _ = synced
    integrator = Synced(svc)
    integrator.accounting = accounting
    integrator.books = fresh
    return integrator


def by_kind(records: list[pb.SyncRecord]) -> dict[str, pb.SyncRecord]:
    return {r.kind: r for r in records}


async def test_quickbooks_posts_each_record_once_after_the_server_fails_twice(acme, fresh):
    connection = await acme.connect("quickbooks")
    assert (connection.state, connection.organisation_id) == ("connected", REALM)
    assert connection.organisation_name == "Acme AV Books"  # read through the SDK
    fresh.fail(2, 503)
    deposit = await acme.paid_deposit()

    records = by_kind(await acme.settle())

    assert {k: r.state for k, r in records.items()} == {
        "customer": "posted",
        "invoice": "posted",
        "payment": "posted",
    }
    assert records["customer"].attempts == 3  # two 503s, then through
    (customer,) = fresh.created("Customer")
    (invoice,) = fresh.created("Invoice")
    (payment,) = fresh.created("Payment")
    assert len(fresh.calls("POST", r"/customer$")) == 1  # created once, retries looked up
    assert records["customer"].external_id == customer["Id"]
    assert records["invoice"].external_id == invoice["Id"]
    assert records["payment"].external_id == payment["Id"]
    assert customer["DisplayName"] == "The Harrisons"
    # What python-quickbooks sent: our number, the customer's id, lines, tax as a line.
    assert invoice["DocNumber"] == deposit.number
    assert invoice["CustomerRef"]["value"] == customer["Id"]
    amounts = [line["Amount"] for line in invoice["Line"]]
    assert sum(float(a) for a in amounts) == deposit.total.amount_minor / 100
    assert invoice["Line"][-1]["Description"].startswith("Tax at")
    assert payment["Line"][0]["LinkedTxn"] == [
        {"TxnId": invoice["Id"], "TxnType": "Invoice", "TxnLineId": 0}
    ]
    assert float(payment["TotalAmt"]) == deposit.total.amount_minor / 100
    # Every API call carried the bearer token, the minor version and, on a
    # create, the sync record's id as QuickBooks' requestid.
    create = fresh.calls("POST", r"/invoice$")[0]
    assert create.headers["Authorization"].startswith("Bearer at-")
    assert create.query["minorversion"] == "75"
    assert create.query["requestid"] == records["invoice"].id

    # More events for the same records, and more passes: nothing new is posted.
    await acme.relay()
    await acme.settle(passes=2)
    assert len(fresh.created("Invoice")) == len(fresh.created("Payment")) == 1


async def test_an_invoice_the_provider_accepted_before_the_answer_was_lost_is_not_posted_twice(
    acme, fresh
):
    await acme.connect("quickbooks")
    fresh.accept_then_fail("Invoice")
    await acme.paid_deposit()

    records = by_kind(await acme.settle())

    (invoice,) = fresh.created("Invoice")
    assert records["invoice"].state == "posted"
    assert records["invoice"].external_id == invoice["Id"]  # found by its DocNumber
    assert len(fresh.calls("POST", r"/invoice$")) == 1
    assert any("DocNumber = " in str(c.body) for c in fresh.calls("POST", r"/query$"))


async def test_a_pass_killed_mid_post_leaves_the_record_to_be_found_not_posted_again(acme, fresh):
    """The process dies after QuickBooks stored the payment and before we did:
    the claim's lease runs out and the next pass finds it by its reference."""
    await acme.connect("quickbooks")
    fresh.stall_after_accept("Payment")
    await acme.paid_deposit()
    killed = asyncio.create_task(
        sync_tenant(
            sessions=acme.svc.sessions, accounting=acme.accounting, tenant_id=acme.tenant_id
        )
    )
    for _ in range(100):
        if fresh.created("Payment"):
            break
        await asyncio.sleep(0.05)
    killed.cancel()
    fresh.release()
    with pytest.raises(asyncio.CancelledError):
        await killed
    assert by_kind(await acme.records())["payment"].state == "pending"

    await asyncio.sleep(POLICY.lease_seconds)
    records = by_kind(await acme.settle())

    (payment,) = fresh.created("Payment")
    assert records["payment"].state == "posted"
    assert records["payment"].external_id == payment["Id"]
    assert len(fresh.calls("POST", r"/payment$")) == 1


async def test_an_expired_access_token_is_refreshed_by_the_sdk_and_kept_sealed(acme, fresh):
    await acme.connect("quickbooks")
    (first_refresh,) = fresh.refresh
    await acme.svc.sql(
        acme.tenant_id,
        "UPDATE accounting_connection SET access_expires_at = now() - interval '1 hour'",
    )
    await acme.paid_deposit()

    records = await acme.settle()

    assert {r.state for r in records} == {"posted"}
    (refresh,) = [
        r
        for r in fresh.calls("POST", r"/tokens/bearer$")
        if r.body.get("grant_type") == "refresh_token"
    ]
    assert refresh.body["refresh_token"] == first_refresh
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert refresh.headers["Authorization"] == f"Basic {basic}"
    assert first_refresh not in fresh.refresh  # rotated
    async with UnitOfWork(acme.svc.sessions, acme.tenant_id) as uow:
        row = await uow.session.get(AccountingConnection, uuid.UUID(acme.tenant_id))
        tokens = open_tokens(KEYS, row)
    assert tokens.refresh_token in fresh.refresh  # the new pair was stored at once
    assert tokens.access_token.encode() not in row.sealed_tokens  # sealed, not stored in clear
    used = fresh.calls("POST", r"/invoice$")[0].headers["Authorization"]
    assert used == f"Bearer {tokens.access_token}"


async def test_a_refused_refresh_asks_staff_to_reconnect_and_spends_no_attempt(acme, fresh):
    await acme.connect("quickbooks")
    fresh.revoke_all()
    await acme.svc.sql(
        acme.tenant_id,
        "UPDATE accounting_connection SET access_expires_at = now() - interval '1 hour'",
    )
    await acme.paid_deposit()

    records = await acme.settle(passes=2)

    assert {(r.state, r.attempts) for r in records} == {("pending", 0)}
    answer = await acme(
        "GetAccountingConnection", pb.GetAccountingConnectionRequest(), acme.staff()
    )
    assert answer.connection.state == "needs_reconnect"
    assert "connect QuickBooks again" in answer.connection.last_error
    assert answer.counts.pending == 3
    assert not fresh.created("Customer")

    # Reconnecting takes the same records on from where they waited.
    assert (await acme.connect("quickbooks")).state == "connected"
    assert {r.state for r in await acme.settle()} == {"posted"}


async def test_xero_posts_contact_invoice_and_payment_once_through_rate_limits(acme, fresh):
    connection = await acme.connect("xero")
    assert (connection.organisation_id, connection.organisation_name) == (
        XERO_TENANT,
        "Acme AV Ltd",
    )
    fresh.fail(2, 429)
    deposit = await acme.paid_deposit()

    records = by_kind(await acme.settle())

    assert {r.state for r in records.values()} == {"posted"}
    (contact,) = fresh.created("Contacts")
    (invoice,) = fresh.created("Invoices")
    (payment,) = fresh.created("Payments")
    assert contact["ContactNumber"] == acme.customer_id
    assert records["customer"].external_id == contact["ContactID"]
    assert invoice["InvoiceNumber"] == deposit.number
    assert invoice["Type"] == "ACCREC" and invoice["LineAmountTypes"] == "NoTax"
    assert invoice["Contact"]["ContactID"] == contact["ContactID"]
    line_total = sum(li["Quantity"] * li["UnitAmount"] for li in invoice["LineItems"])
    assert round(line_total * 100) == deposit.total.amount_minor
    assert payment["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    assert payment["Reference"].startswith("PAY-")
    made = fresh.calls("PUT", r"/Invoices$")
    assert len(made) == 1
    assert made[0].headers["xero-tenant-id"] == XERO_TENANT
    assert made[0].headers["Idempotency-Key"] == records["invoice"].id
    assert any(c.query.get("InvoiceNumbers") == deposit.number for c in fresh.calls("GET", "Inv"))


async def test_a_refused_invoice_fails_at_once_its_payment_waits_and_staff_retry_it(acme, fresh):
    await acme.connect("quickbooks")
    fresh.refuse("Invoice")
    await acme.paid_deposit()

    records = by_kind(await acme.settle(passes=3))

    assert (records["invoice"].state, records["invoice"].attempts) == ("failed", 1)
    assert "Select a product or service" in records["invoice"].last_error
    assert records["payment"].state == "pending"
    assert "waits for its invoice" in records["payment"].last_error
    assert records["invoice"].label.startswith("INV-")
    failed = await acme.records("failed")
    assert [r.kind for r in failed] == ["invoice"]
    await acme.fails(
        grpc.StatusCode.FAILED_PRECONDITION,
        "RetrySync",
        pb.RetrySyncRequest(sync_id=records["customer"].id),
        acme.finance,
    )
    await acme.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "RetrySync",
        pb.RetrySyncRequest(sync_id=records["invoice"].id),
        acme.approver,
    )

    retried = await acme(
        "RetrySync", pb.RetrySyncRequest(sync_id=records["invoice"].id), acme.finance
    )
    assert (retried.record.state, retried.record.attempts) == ("pending", 0)
    after = by_kind(await acme.settle())

    assert {r.state for r in after.values()} == {"posted"}
    assert len(fresh.created("Invoice")) == len(fresh.created("Payment")) == 1


async def test_a_connection_link_works_once_for_its_own_tenant_in_time(acme, fresh, synced):
    svc, accounting, _ = synced
    started = await acme(
        "StartAccountingConnection",
        pb.StartAccountingConnectionRequest(provider="xero", redirect_uri=REDIRECT),
        acme.finance,
    )
    query = parse_qs(urlparse(started.authorize_url).query)
    assert started.authorize_url.startswith(fresh.base + "/xero-login/identity/connect/authorize")
    assert "accounting.transactions" in query["scope"][0].split()
    state = query["state"][0]
    other = Synced(svc)
    other.accounting = accounting
    request = pb.CompleteAccountingConnectionRequest(state=state, code=fresh.approve())
    await other.fails(
        grpc.StatusCode.INVALID_ARGUMENT, "CompleteAccountingConnection", request, other.finance
    )
    await acme("CompleteAccountingConnection", request, acme.finance)
    replay = pb.CompleteAccountingConnectionRequest(state=state, code=fresh.approve())
    await acme.fails(
        grpc.StatusCode.INVALID_ARGUMENT, "CompleteAccountingConnection", replay, acme.finance
    )
    # Clients and read-only principals neither see nor change the connection.
    await acme.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "ListSyncRecords",
        pb.ListSyncRecordsRequest(),
        acme.approver,
    )
    await acme.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "StartAccountingConnection",
        pb.StartAccountingConnectionRequest(provider="sage", redirect_uri=REDIRECT),
        acme.finance,
    )
    await acme.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "StartAccountingConnection",
        pb.StartAccountingConnectionRequest(provider="xero", redirect_uri="http://evil.example/"),
        acme.finance,
    )


async def test_without_a_connection_nothing_is_queued_and_disconnect_pauses(acme, fresh):
    await acme.paid_deposit()
    assert await acme.records() == []
    await acme.connect("quickbooks")
    answer = await acme("DisconnectAccounting", pb.DisconnectAccountingRequest(), acme.finance)
    assert answer.connection.state == "disconnected"
    await acme.reach(3)  # the install milestone issues its invoice
    await acme.relay()
    assert await acme.records() == []
    settings = await acme("GetPaymentSettings", pb.GetPaymentSettingsRequest(), acme.staff())
    assert settings.settings.accounting_provider == ""


async def test_the_declared_job_posts_what_is_due(acme, fresh, synced):
    """The job from payments' ServiceSpec, run by the chassis runner once."""
    _, accounting, engine = synced
    await acme.connect("quickbooks")
    await acme.paid_deposit()
    (job,) = jobs.accounting_sync(sessions=acme.svc.sessions, accounting=accounting, interval=5)
    assert (job.channel, job.singleton) == ("payments_sync", True)

    runner = JobRunner(engine, [job], namespace="payments")
    for _ in range(10):
        await runner.run_once(job)
        if not await acme.records("pending"):
            break
        await asyncio.sleep(0.06)

    assert {r.state for r in await acme.records()} == {"posted"}
    assert await sync_due(sessions=acme.svc.sessions, accounting=accounting) is False


def test_settings_refuse_a_provider_without_sealing_keys():
    from pydantic import ValidationError

    from services.payments.settings import PaymentsSettings

    db = {
        "database_url": "postgresql+asyncpg://payments@localhost/payments",
        "principal_public_key": "unused-here",
    }
    with pytest.raises(ValidationError, match="PAYMENTS_MASTER_KEYS"):
        PaymentsSettings(quickbooks_client_id="app", quickbooks_client_secret="s", **db)
    with pytest.raises(ValidationError, match="PAYMENTS_XERO_CLIENT_SECRET"):
        PaymentsSettings(xero_client_id="app", **db)
    keys = json.dumps({"k1": base64.b64encode(os.urandom(32)).decode()})
    ok = PaymentsSettings(
        xero_client_id="app", xero_client_secret="s", master_keys=keys, active_key_id="k1", **db
    )
    assert ok.keys().active_id == "k1"

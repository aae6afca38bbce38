"""The accounting console page and JSON routes against an in-process fake of
payments' accounting RPCs (served through the chassis: real principal
verification, DomainErrors as ErrorDetail). The gateway builds the callback
from its host, hands the provider's answer to payments, and renders what
payments says; it decides nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from portal.payments.v1 import payments_pb2 as pb
from portal.payments.v1 import payments_pb2_grpc

from gateway.settings import GatewaySettings
from services.chassis.errors import InvalidTransition
from tests.gateway import project_fakes as F
from tests.gateway.payments_portal import Services, serving, signed_in

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
STAFF = {"Authorization": "Bearer good-token"}
FAILED_ID = str(uuid.uuid4())
POSTED_ID = str(uuid.uuid4())


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


class FakePayments(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self) -> None:
        self.started: list[pb.StartAccountingConnectionRequest] = []
        self.completed: list[pb.CompleteAccountingConnectionRequest] = []
        self.retried: list[str] = []
        self.connection = pb.AccountingConnection(
            provider="quickbooks",
            state="connected",
            organisation_id="9130",
            organisation_name="Acme AV Books",
            connected_at=_now(),
        )

    async def GetAccountingConnection(self, request, context):
        return pb.GetAccountingConnectionResponse(
            connection=self.connection,
            available_providers=["quickbooks", "xero"],
            counts=pb.SyncCounts(pending=0, posted=1, failed=1),
        )

    async def ListSyncRecords(self, request, context):
        failed = pb.SyncRecord(
            id=FAILED_ID,
            kind="invoice",
            label="INV-1001",
            provider="quickbooks",
            state="failed",
            attempts=1,
            last_error="QuickBooks refused it (6000): Select a product or service",
            created_at=_now(),
        )
        posted = pb.SyncRecord(
            id=POSTED_ID,
            kind="customer",
            label="The Harrisons",
            provider="quickbooks",
            state="posted",
            external_id="58",
            attempts=1,
            posted_at=_now(),
        )
        records = [r for r in (failed, posted) if request.state in ("", r.state)]
        return pb.ListSyncRecordsResponse(records=records)

    async def RetrySync(self, request, context):
        if request.sync_id == POSTED_ID:
            raise InvalidTransition("this record is already in the books", field="sync_id")
        self.retried.append(request.sync_id)
        return pb.RetrySyncResponse(
            record=pb.SyncRecord(
                id=request.sync_id, kind="invoice", label="INV-1001", state="pending"
            )
        )

    async def StartAccountingConnection(self, request, context):
        self.started.append(request)
        return pb.StartAccountingConnectionResponse(
            authorize_url=f"https://appcenter.intuit.test/connect/oauth2?state=s1&redirect_uri={request.redirect_uri}"
        )

    async def CompleteAccountingConnection(self, request, context):
        self.completed.append(request)
        return pb.CompleteAccountingConnectionResponse(connection=self.connection)

    async def DisconnectAccounting(self, request, context):
        self.connection = pb.AccountingConnection(provider="quickbooks", state="disconnected")
        return pb.DisconnectAccountingResponse(connection=self.connection)


@pytest.fixture
async def services(keypair) -> AsyncIterator[Services]:
    async with serving(FakePayments(), keypair[1]) as running:
        yield running


@asynccontextmanager
async def gateway(
    settings: GatewaySettings, services, *, payments: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    fakes = services[0]
    fakes.identity.session = F.staff_session()
    fakes.identity.staff_token_user = F.IP.StaffUser(id=F.STAFF_ID, roles=[F.IP.STAFF_ROLE_OWNER])
    async with signed_in(settings, services, payments=payments) as c:
        yield c


async def test_the_console_shows_the_connection_and_the_log_failed_first(settings, services):
    async with gateway(settings, services) as client:
        page = await client.get("/console/accounting")
        failed_only = await client.get("/console/accounting", params={"state": "failed"})
    assert page.status_code == 200
    assert "QuickBooks Online" in page.text and "Acme AV Books" in page.text
    assert page.text.index("INV-1001") < page.text.index("The Harrisons")
    assert "Select a product or service" in page.text
    assert f"/console/accounting/records/{FAILED_ID}/retry" in page.text
    assert f"/console/accounting/records/{POSTED_ID}/retry" not in page.text  # posted: no retry
    assert "as #58" in page.text
    assert 'href="/console/accounting"' in page.text  # in the console's navigation
    assert "The Harrisons" not in failed_only.text


async def test_connecting_sends_the_person_to_the_provider_and_back(settings, services):
    _, fake, _ = services
    fake.connection = pb.AccountingConnection(state="disconnected")
    async with gateway(settings, services) as client:
        page = await client.get("/console/accounting")
        go = await client.get("/console/accounting/connect", params={"provider": "xero"})
        back = await client.get(
            "/console/accounting/callback",
            params={"code": "c0de", "state": "s1", "realmId": "9130"},
        )
        denied = await client.get(
            "/console/accounting/callback", params={"error": "access_denied", "state": "s1"}
        )
    assert "/console/accounting/connect?provider=quickbooks" in page.text
    assert "Connect Xero" in page.text
    assert go.status_code == 303 and go.headers["location"].startswith("https://appcenter.intuit")
    (started,) = fake.started
    assert started.provider == "xero"
    assert started.redirect_uri == "http://acme.localhost/console/accounting/callback"
    assert back.status_code == 303 and back.headers["location"] == "/console/accounting"
    (completed,) = fake.completed  # the denial completed nothing
    assert (completed.state, completed.code, completed.realm_id) == ("s1", "c0de", "9130")
    assert denied.status_code == 303


async def test_retry_needs_the_csrf_token_and_a_refusal_reads_as_a_sentence(settings, services):
    _, fake, _ = services
    async with gateway(settings, services) as client:
        page = await client.get("/console/accounting")
        token = CSRF_FIELD.search(page.text).group(1)  # type: ignore[union-attr]
        forged = await client.post(f"/console/accounting/records/{FAILED_ID}/retry")
        retried = await client.post(
            f"/console/accounting/records/{FAILED_ID}/retry", data={"csrf_token": token}
        )
        api_refused = await client.post(
            f"/api/v1/accounting/sync-records/{POSTED_ID}/retry", headers=STAFF
        )
    assert forged.status_code == 403
    assert retried.status_code == 303
    assert fake.retried == [FAILED_ID]
    assert api_refused.status_code == 409
    assert api_refused.headers["content-type"].startswith("application/problem+json")
    assert api_refused.json()["detail"] == "this record is already in the books"


async def test_the_json_api_answers_the_status_records_and_connect(settings, services):
    async with gateway(settings, services) as client:
        status = await client.get("/api/v1/accounting", headers=STAFF)
        records = await client.get("/api/v1/accounting/sync-records?state=failed", headers=STAFF)
        connect = await client.post(
            "/api/v1/accounting/connect", json={"provider": "quickbooks"}, headers=STAFF
        )
        bad = await client.post(
            "/api/v1/accounting/connect", json={"provider": "sage"}, headers=STAFF
        )
    assert status.json()["connection"]["organisation_name"] == "Acme AV Books"
    assert status.json()["counts"] == {"pending": 0, "posted": 1, "failed": 1}
    assert [r["label"] for r in records.json()["records"]] == ["INV-1001"]
    assert connect.json()["authorize_url"].startswith("https://appcenter.intuit.test/")
    assert bad.status_code == 422


async def test_without_a_payments_target_the_accounting_routes_answer_503(settings, services):
    async with gateway(settings, services, payments=False) as client:
        api = await client.get("/api/v1/accounting", headers=STAFF)
        page = await client.get("/console/accounting")
    assert api.status_code == page.status_code == 503

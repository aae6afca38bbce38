"""The accounting connection (QuickBooks Online or Xero) and the sync log:
JSON routes under /api/v1/accounting and the call functions the console
page shares. Payments decides who may connect and what a record's state is;
the gateway only builds the callback URL from the host it was asked on."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pb
from pydantic import BaseModel, Field

from gateway.api.fields import Line
from gateway.api.translate import timestamp
from gateway.backends import PaymentsRemote
from gateway.deps import PageDep, PaymentsDep, StaffDep
from gateway.problems import problem_responses
from services.chassis.auth import Principal

router = APIRouter(prefix="/accounting", tags=["accounting"], responses=problem_responses(403))
CALLBACK = "/console/accounting/callback"

Provider = Literal["quickbooks", "xero"]
PROVIDER_NAMES = {"quickbooks": "QuickBooks Online", "xero": "Xero"}
SyncState = Literal["pending", "posted", "failed"]


class Connection(BaseModel):
    provider: str = Field(description="quickbooks, xero; empty when never connected.")
    state: Literal["connected", "needs_reconnect", "disconnected"]
    organisation_id: str = Field(description="QuickBooks realm id or Xero tenant id.")
    organisation_name: str
    connected_at: datetime | None
    last_error: str = Field(description="Why a reconnect is needed, in plain words.")


class SyncCounts(BaseModel):
    pending: int
    posted: int
    failed: int


class AccountingStatus(BaseModel):
    connection: Connection
    available_providers: list[str] = Field(description="The providers this server can connect.")
    counts: SyncCounts


class ConnectRequest(BaseModel):
    provider: Provider


class Authorize(BaseModel):
    authorize_url: str = Field(
        description="Send the person here; the provider returns them "
        "to the console's callback with a code and the state."
    )


class CompleteRequest(BaseModel):
    state: Line = Field(min_length=1, max_length=200)
    code: Line = Field(min_length=1, max_length=2000)
    realm_id: Line = Field(default="", max_length=100, description="QuickBooks' realmId.")


class SyncRecord(BaseModel):
    id: UUID
    kind: Literal["customer", "invoice", "payment"]
    record_id: str
    label: str = Field(description="The record in words: a name, an invoice number, an amount.")
    provider: str
    state: SyncState
    external_id: str = Field(description="The provider's id, once posted.")
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    posted_at: datetime | None
    created_at: datetime | None


class SyncRecordPage(BaseModel):
    records: list[SyncRecord]
    next_page_token: str


def _connection(c: pb.AccountingConnection) -> Connection:
    return Connection(
        provider=c.provider,
        state=c.state or "disconnected",  # type: ignore[arg-type]
        organisation_id=c.organisation_id,
        organisation_name=c.organisation_name,
        connected_at=timestamp(c, "connected_at"),
        last_error=c.last_error,
    )


def _record(r: pb.SyncRecord) -> SyncRecord:
    return SyncRecord(
        id=UUID(r.id),
        kind=r.kind,  # type: ignore[arg-type]
        record_id=r.record_id,
        label=r.label,
        provider=r.provider,
        state=r.state,  # type: ignore[arg-type]
        external_id=r.external_id,
        attempts=r.attempts,
        last_error=r.last_error,
        next_attempt_at=timestamp(r, "next_attempt_at"),
        posted_at=timestamp(r, "posted_at"),
        created_at=timestamp(r, "created_at"),
    )


def callback_url(request: Request) -> str:
    """The console's callback on the host the person is using (register each
    portal host's callback with the provider's app)."""
    return str(request.base_url).rstrip("/") + CALLBACK


async def fetch_status(payments: PaymentsRemote, principal: Principal) -> AccountingStatus:
    answer = await payments.call(
        payments.stub.GetAccountingConnection,
        pb.GetAccountingConnectionRequest(),
        principal=principal,
    )
    return AccountingStatus(
        connection=_connection(answer.connection),
        available_providers=list(answer.available_providers),
        counts=SyncCounts(
            pending=answer.counts.pending, posted=answer.counts.posted, failed=answer.counts.failed
        ),
    )


async def start(
    payments: PaymentsRemote, principal: Principal, provider: str, redirect_uri: str
) -> str:
    answer = await payments.call(
        payments.stub.StartAccountingConnection,
        pb.StartAccountingConnectionRequest(provider=provider, redirect_uri=redirect_uri),
        principal=principal,
    )
    return answer.authorize_url


async def complete(
    payments: PaymentsRemote, principal: Principal, *, state: str, code: str, realm_id: str
) -> Connection:
    answer = await payments.call(
        payments.stub.CompleteAccountingConnection,
        pb.CompleteAccountingConnectionRequest(state=state, code=code, realm_id=realm_id),
        principal=principal,
    )
    return _connection(answer.connection)


async def disconnect(payments: PaymentsRemote, principal: Principal) -> Connection:
    answer = await payments.call(
        payments.stub.DisconnectAccounting, pb.DisconnectAccountingRequest(), principal=principal
    )
    return _connection(answer.connection)


async def list_records(
    payments: PaymentsRemote, principal: Principal, page: common_pb2.PageRequest, state: str = ""
) -> SyncRecordPage:
    answer = await payments.call(
        payments.stub.ListSyncRecords,
        pb.ListSyncRecordsRequest(state=state, page=page),
        principal=principal,
    )
    return SyncRecordPage(
        records=[_record(r) for r in answer.records], next_page_token=answer.page.next_page_token
    )


async def retry(payments: PaymentsRemote, principal: Principal, sync_id: UUID) -> SyncRecord:
    answer = await payments.call(
        payments.stub.RetrySync, pb.RetrySyncRequest(sync_id=str(sync_id)), principal=principal
    )
    return _record(answer.record)


@router.get("", summary="The accounting connection and how many records wait (staff)")
async def get_status(staff: StaffDep, payments: PaymentsDep) -> AccountingStatus:
    return await fetch_status(payments, staff)


@router.post(
    "/connect",
    summary="Start connecting QuickBooks Online or Xero (owner, admin, finance)",
    description="Answers the provider's authorize URL; the provider sends the person back to "
    "this host's `/console/accounting/callback`, which completes the connection.",
)
async def connect(
    body: ConnectRequest, request: Request, staff: StaffDep, payments: PaymentsDep
) -> Authorize:
    return Authorize(
        authorize_url=await start(payments, staff, body.provider, callback_url(request))
    )


@router.post("/complete", summary="Exchange the provider's code (owner, admin, finance)")
async def complete_connection(
    body: CompleteRequest, staff: StaffDep, payments: PaymentsDep
) -> Connection:
    return await complete(payments, staff, state=body.state, code=body.code, realm_id=body.realm_id)


@router.delete("/connection", summary="Disconnect the books; records wait (owner, admin, finance)")
async def delete_connection(staff: StaffDep, payments: PaymentsDep) -> Connection:
    return await disconnect(payments, staff)


@router.get("/sync-records", summary="Each record's sync state: failed first (staff)")
async def get_records(
    staff: StaffDep, payments: PaymentsDep, page: PageDep, state: SyncState | None = None
) -> SyncRecordPage:
    return await list_records(payments, staff, page, state or "")


@router.post("/sync-records/{sync_id}/retry", summary="Post a failed record again (staff)")
async def retry_record(sync_id: UUID, staff: StaffDep, payments: PaymentsDep) -> SyncRecord:
    return await retry(payments, staff, sync_id)

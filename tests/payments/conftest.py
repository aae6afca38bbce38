"""Payments' real gRPC server in-process, on a migrated database of its own,
called the way the gateway calls it: a signed principal on every call.

Projects' events are handed to payments' own handlers (the subscriptions it
declares), exactly as the consumer would, inside a unit of work; each test
makes its own integrator (a tenant id), customer and project.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.common.v1 import common_pb2
from portal.payments.v1 import events_pb2 as payments_events
from portal.payments.v1 import payments_pb2 as pb
from portal.payments.v1 import payments_pb2_grpc
from portal.projects.v1 import events_pb2 as projects_events

from deploy.infra import Postgres
from deploy.infra.localstripe import Localstripe
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier
from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker
from services.chassis.events import Event
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.payments import handlers
from services.payments.grpc_api import PaymentsServicer
from services.payments.stripe_gateway import StripeGateway
from tests.grpc_service import ServiceUnderTest, migrated_database

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PaymentsService"].full_name
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT


@dataclass
class Payments(ServiceUnderTest):
    stub: payments_pb2_grpc.PaymentsServiceStub


@pytest.fixture(scope="session")
def payments_url(postgres: Postgres) -> Iterator[str]:
    with migrated_database(postgres, "payments") as url:
        yield url


WEBHOOK_SECRET = "whsec_test_payments"
BASE_DOMAIN = "portal.example"  # tenants' hosts: <slug>.portal.example


@pytest.fixture(scope="session")
def stripe_api(localstripe: Localstripe) -> StripeGateway:
    return StripeGateway(
        api_key="sk_test_portal", webhook_secret=WEBHOOK_SECRET, api_base=localstripe.url
    )


@pytest.fixture(scope="session")
async def payments(
    payments_url: str, keypair: tuple[str, str], stripe_api: StripeGateway
) -> AsyncIterator[Payments]:
    private, public = keypair
    engine = make_engine(payments_url, pool_size=10)
    sessions = make_sessionmaker(engine)
    servicer = PaymentsServicer(sessions, stripe_api)
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public),
        register=lambda srv: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(servicer, srv),
        service_names=[SERVICE_NAME],
    )
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield Payments(
            url=payments_url,
            stub=payments_pb2_grpc.PaymentsServiceStub(channel),
            caller=Caller(PrincipalSigner(private), timeout=20),
            sessions=sessions,
        )
    finally:
        await channel.close()
        await server.stop(None)
        await engine.dispose()


def _id() -> str:
    return str(uuid.uuid4())


def gbp(amount_minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="GBP", amount_minor=amount_minor)


@dataclass
class Integrator:
    """One tenant with a customer (an approver and a viewer) and a project."""

    svc: Payments
    tenant_id: str = field(default_factory=_id)
    customer_id: str = field(default_factory=_id)
    project_id: str = field(default_factory=_id)
    approver_id: str = field(default_factory=_id)

    def staff(self, *roles: str) -> Principal:
        return Principal(
            kind="staff", subject=_id(), tenant_id=self.tenant_id, roles=frozenset(roles)
        )

    @property
    def finance(self) -> Principal:
        return self.staff("finance")

    def client(self, *, customer_id: str | None = None, read_only: bool = False) -> Principal:
        return Principal(
            kind="client",
            subject=self.approver_id,
            tenant_id=self.tenant_id,
            roles=frozenset({"approver"}),
            customer_id=customer_id or self.customer_id,
            read_only=read_only,
        )

    @property
    def approver(self) -> Principal:
        return self.client()

    async def __call__(self, method: str, request: Message, principal: Principal) -> Any:
        return await self.svc(method, request, principal)

    async def fails(self, code, method: str, request: Message, principal: Principal):
        return await self.svc.fails(code, method, request, principal)

    async def deliver(
        self, payload: Message, *, event_id: str | None = None, tenant: bool = True
    ) -> None:
        """A projects event through payments' own handler, as the consumer runs it."""
        subs = handlers.subscriptions(base_domain=BASE_DOMAIN)
        (sub,) = [s for s in subs if s.payload_type is type(payload)]
        event = Event(
            id=event_id or _id(),
            type=sub.subject,
            tenant_id=self.tenant_id,
            occurred_at=datetime.now(UTC),
            aggregate_type="project",
            aggregate_id=self.project_id,
            payload=payload,
        )
        async with UnitOfWork(self.svc.sessions, self.tenant_id) as uow:
            await sub.handler(uow, event)
            await uow.commit()

    async def accept(self, total_minor: int = 1_000_000, tax_minor: int = 0) -> None:
        await self.deliver(
            projects_events.ProposalAccepted(
                proposal_id=_id(),
                project_id=self.project_id,
                project_name="Home cinema",
                reference="PRJ-0001",
                customer_id=self.customer_id,
                version=1,
                total=gbp(total_minor),
                tax=gbp(tax_minor),
                client_name="The Harrisons",
                letterhead=common_pb2.Letterhead(time_zone="Europe/London"),
            )
        )

    async def reach(self, stage: int) -> None:
        await self.deliver(
            projects_events.ProjectStageChanged(
                project_id=self.project_id,
                reference="PRJ-0001",
                name="Home cinema",
                customer_id=self.customer_id,
                from_stage=stage - 1,
                to_stage=stage,
            )
        )

    async def webhook(self, payload: bytes, signature: str) -> pb.IngestStripeEventResponse:
        """The gateway's endpoint hands the webhook over; the consumer then runs
        payments' own handler for the event it published."""
        gateway = Principal(kind="service", subject="gateway")
        answer = await self.svc.caller(
            self.svc.stub.IngestStripeEvent,
            pb.IngestStripeEventRequest(payload=payload, signature=signature),
            gateway,
        )
        if not answer.duplicate:
            await self.deliver(
                payments_events.StripeEventReceived(event_id=answer.event_id), tenant=True
            )
        return answer

    async def invoices(self, principal: Principal | None = None) -> list[pb.Invoice]:
        answer = await self(
            "ListInvoices",
            pb.ListInvoicesRequest(project_id=self.project_id),
            principal or self.finance,
        )
        return list(answer.invoices)

    async def draft(self, *lines: tuple[str, int, int], tax_rate_bps: int = 0) -> pb.Invoice:
        return (
            await self(
                "CreateInvoice",
                pb.CreateInvoiceRequest(
                    request_id=_id(),
                    project_id=self.project_id,
                    lines=[
                        pb.InvoiceLine(description=d, quantity=q, unit_price_minor=p)
                        for d, q, p in (lines or [("Extra speaker", 1, 50_000)])
                    ],
                    tax_rate_bps=tax_rate_bps,
                ),
                self.finance,
            )
        ).invoice

    async def pay_offline(self, invoice_id: str, amount_minor: int, **kw: Any) -> pb.Invoice:
        values = {
            "request_id": _id(),
            "invoice_id": invoice_id,
            "method": "bank_transfer",
            "amount": gbp(amount_minor),
            "reference": "BACS 4471",
        } | kw
        return (
            await self(
                "RecordOfflinePayment", pb.RecordOfflinePaymentRequest(**values), self.finance
            )
        ).invoice


@pytest.fixture
def acme(payments: Payments) -> Integrator:
    return Integrator(payments)


def signed(
    event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, at: int | None = None
) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature, exactly as Stripe signs them
    (for the events localstripe cannot produce: ACH, Bacs, disputes)."""
    payload = json.dumps(event).encode()
    t = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={t},v1={mac}"


def intent_event(
    intent: dict[str, Any],
    kind: str,
    *,
    created: int,
    event_id: str | None = None,
    account: str = "",
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": f"payment_intent.{kind}",
        "created": created,
        "account": account or None,
        "data": {"object": intent},
    }

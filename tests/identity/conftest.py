"""Identity's real gRPC server in-process, on a migrated database of its own,
called the way the gateway calls it: a signed principal on every call.

One database and one server for the run; every test onboards its own
integrator (tenant), which is all the isolation identity needs: everything
it keeps is tenant-scoped (and row-level secured).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.identity.v1 import events_pb2, identity_pb2_grpc
from portal.identity.v1 import identity_pb2 as pb
from sqlalchemy import func, select, update

from deploy.infra import Postgres
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier
from services.chassis.consumer import EventConsumer
from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker, outbox_message
from services.chassis.grpc_client import Caller, error_detail, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.chassis.sealing import MasterKeys
from services.identity import handlers
from services.identity.grpc_api import IdentityServicer
from services.identity.grpc_api.brand import DEADLINE_CEILINGS
from services.identity.passwords import Passwords, Verified
from tests.grpc_service import ServiceUnderTest, migrated_database

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["IdentityService"].full_name
PASSWORD = "a long enough passphrase"
BRAND_KEYS = MasterKeys({"b1": b"\x07" * 32}, "b1")


class CountingPasswords(Passwords):
    """The real argon2id, counted: how many passwords the service actually checked
    (a dummy verify for an unknown account counts too: it is the same work)."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0

    async def verify(self, stored: str | None, password: str) -> Verified:
        self.verified += 1
        return await super().verify(stored, password)


@dataclass
class Identity(ServiceUnderTest):
    """The running service (see tests/grpc_service.py)."""

    engine: Any
    target: str  # where it listens, for services under test that call it
    passwords: CountingPasswords

    async def deliver_own_events(self) -> int:
        """What the relay and identity's consumer do in the suite, done now: the
        events identity consumes itself (a link request, handled after its answer)
        go through the real EventConsumer.process, once each. Returns how many."""
        consumer = EventConsumer(
            consumer="identity--test",
            sessions=self.sessions,
            js=None,  # type: ignore[arg-type]  # process() never touches NATS
            subscriptions=handlers.subscriptions(),
        )
        subjects = [sub.subject for sub in handlers.subscriptions()]
        async with UnitOfWork(self.sessions, None) as uow:
            rows = (
                await uow.session.execute(
                    select(outbox_message.c.id, outbox_message.c.payload, outbox_message.c.headers)
                    .where(
                        outbox_message.c.subject.in_(subjects),
                        outbox_message.c.published_at.is_(None),
                    )
                    .order_by(outbox_message.c.created_at)
                )
            ).all()
            for row in rows:
                await consumer.process(row.payload, row.headers)
            await uow.session.execute(
                update(outbox_message)
                .where(outbox_message.c.id.in_([row.id for row in rows]))
                .values(published_at=func.now())
            )
            await uow.commit()
        return len(rows)

    async def events(self, tenant_id: str, payload_type: type[Message]) -> list:
        await self.deliver_own_events()  # a link asked for is in the outbox once handled
        return await super().events(tenant_id, payload_type)


@pytest.fixture(scope="session")
def identity_url(postgres: Postgres) -> Iterator[str]:
    with migrated_database(postgres, "identity") as url:
        yield url


@pytest.fixture(scope="session")
async def identity(identity_url: str, keypair: tuple[str, str]) -> AsyncIterator[Identity]:
    private, public = keypair
    engine = make_engine(identity_url, pool_size=10)
    sessions = make_sessionmaker(engine)
    # The production argon2id parameters: the tests pay what a sign-in really costs.
    passwords = CountingPasswords()
    servicer = IdentityServicer(sessions, brand_keys=BRAND_KEYS, passwords=passwords)
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public),
        register=lambda srv: identity_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, srv),
        service_names=[SERVICE_NAME],
        deadline_ceilings=DEADLINE_CEILINGS,
    )
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield Identity(
            url=identity_url,
            stub=identity_pb2_grpc.IdentityServiceStub(channel),
            caller=Caller(PrincipalSigner(private), timeout=20),
            sessions=sessions,
            engine=engine,
            target=f"127.0.0.1:{port}",
            passwords=passwords,
        )
    finally:
        await channel.close()
        await server.stop(None)
        await engine.dispose()


# --- builders -----------------------------------------------------------------------


@dataclass
class World:
    """One integrator: an owner, a project manager, a technician, and a customer with
    two contacts (an approver and a viewer)."""

    identity: Identity
    tenant: pb.Tenant
    owner: pb.StaffUser
    pm: pb.StaffUser
    technician: pb.StaffUser
    customer: pb.Customer
    client_ip: str = field(default_factory=lambda: f"198.51.100.{uuid.uuid4().int % 250 + 1}")

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    @property
    def gateway(self) -> Principal:
        return Principal(kind="service", subject="gateway", tenant_id=self.tenant.id)

    @property
    def platform(self) -> Principal:
        return Principal(kind="platform", subject="test", tenant_id=self.tenant.id)

    @property
    def approver(self) -> pb.Contact:
        return self._contact("jane@")

    @property
    def viewer(self) -> pb.Contact:
        return self._contact("tom@")

    def _contact(self, email_prefix: str) -> pb.Contact:
        # By address, not position: contacts created together share created_at.
        return next(c for c in self.customer.contacts if c.email.startswith(email_prefix))

    def staff(self, user: pb.StaffUser, session: pb.Session | None = None) -> Principal:
        """A staff principal as the gateway mints it (from an API token or a session)."""
        roles = frozenset(
            pb.StaffRole.Name(r).removeprefix("STAFF_ROLE_").lower() for r in user.roles
        )
        return Principal(
            kind="staff",
            subject=user.id,
            tenant_id=self.tenant.id,
            roles=roles,
            session_id=session.id if session else None,
            read_only=session.read_only if session else False,
            customer_id=session.customer_id or None if session else None,
        )

    def person(self, session: pb.Session) -> Principal:
        """The principal the gateway mints for a resolved session."""
        kind = "staff" if session.kind == pb.PRINCIPAL_KIND_STAFF else "client"
        return Principal(
            kind=kind,
            subject=session.subject_id,
            tenant_id=self.tenant.id,
            roles=frozenset(session.roles),
            customer_id=session.customer_id or None,
            read_only=session.read_only,
            session_id=session.id,
        )

    def client(self, ua: str = "pytest") -> pb.ClientInfo:
        return pb.ClientInfo(ip=self.client_ip, user_agent=ua)

    async def sign_in(self, email: str, password: str = PASSWORD, **kw) -> pb.SignInResponse:
        return await self.identity(
            "SignIn",
            pb.SignInRequest(email=email, password=password, client=self.client(), **kw),
            self.gateway,
        )

    async def resolve(self, token: str) -> pb.Session:
        return (
            await self.identity(
                "ResolveSession", pb.ResolveSessionRequest(token=token), self.gateway
            )
        ).session

    async def latest_link(self, payload_type: type[Message]) -> Any:
        events = await self.identity.events(self.tenant.id, payload_type)
        assert events, f"no {payload_type.DESCRIPTOR.name} event"
        return events[-1]

    async def invite_and_set_password(
        self, contact: pb.Contact, password: str = PASSWORD
    ) -> pb.NewSession:
        await self.identity(
            "InviteContact", pb.InviteContactRequest(contact_id=contact.id), self.staff(self.pm)
        )
        invite = await self.latest_link(events_pb2.ContactInvited)
        assert invite.contact_id == contact.id
        return (
            await self.identity(
                "RedeemLoginToken",
                pb.RedeemLoginTokenRequest(
                    token=invite.token, new_password=password, client=self.client()
                ),
                self.gateway,
            )
        ).session

    async def set_staff_password(self, user: pb.StaffUser, password: str = PASSWORD) -> None:
        await self.identity(
            "RequestPasswordReset",
            pb.RequestPasswordResetRequest(email=user.email, client_ip=self.client_ip),
            self.gateway,
        )
        reset = await self.latest_link(events_pb2.PasswordResetRequested)
        assert reset.email == user.email
        await self.identity(
            "RedeemLoginToken",
            pb.RedeemLoginTokenRequest(token=reset.token, new_password=password),
            self.gateway,
        )

    async def staff_session(self, user: pb.StaffUser) -> tuple[str, pb.Session]:
        await self.set_staff_password(user)
        opened = (await self.sign_in(user.email)).session
        return opened.token, opened.session

    async def get_customer(self, customer_id: str | None = None) -> pb.Customer:
        return (
            await self.identity(
                "GetCustomer",
                pb.GetCustomerRequest(customer_id=customer_id or self.customer.id),
                self.staff(self.owner),
            )
        ).customer

    async def find_contact(self, contact_id: str) -> pb.Contact:
        return next(c for c in (await self.get_customer()).contacts if c.id == contact_id)

    async def change_access(self, to: int, customer_id: str | None = None) -> pb.Customer:
        return (
            await self.identity(
                "ChangeCustomerAccess",
                pb.ChangeCustomerAccessRequest(customer_id=customer_id or self.customer.id, to=to),
                self.staff(self.pm),
            )
        ).customer

    async def audit(self) -> list[pb.AuditEntry]:
        return list(
            (
                await self.identity(
                    "ListAuditEntries", pb.ListAuditEntriesRequest(), self.staff(self.owner)
                )
            ).entries
        )


async def new_world(identity: Identity) -> World:
    slug = f"t{uuid.uuid4().hex[:10]}"
    platform = Principal(kind="platform", subject="test")
    tenant = (
        await identity(
            "CreateTenant",
            pb.CreateTenantRequest(
                slug=slug, display_name=f"{slug.title()} AV", time_zone="Europe/London"
            ),
            platform,
        )
    ).tenant
    as_tenant = Principal(kind="platform", subject="test", tenant_id=tenant.id)

    async def staff(name: str, role: int) -> pb.StaffUser:
        return (
            await identity(
                "CreateStaffUser",
                pb.CreateStaffUserRequest(
                    email=f"{name}@{slug}.example", full_name=name.title(), roles=[role]
                ),
                as_tenant,
            )
        ).user

    owner = await staff("olivia", pb.STAFF_ROLE_OWNER)
    pm = await staff("pat", pb.STAFF_ROLE_PROJECT_MANAGER)
    technician = await staff("terry", pb.STAFF_ROLE_TECHNICIAN)
    customer = (
        await identity(
            "CreateCustomer",
            pb.CreateCustomerRequest(
                name="The Harrison Residence",
                contacts=[
                    pb.NewContact(
                        email=f"jane@{slug}-home.example",
                        full_name="Jane Harrison",
                        role=pb.CONTACT_ROLE_APPROVER,
                    ),
                    pb.NewContact(
                        email=f"tom@{slug}-home.example",
                        full_name="Tom Harrison",
                        role=pb.CONTACT_ROLE_VIEWER,
                    ),
                ],
            ),
            as_tenant,
        )
    ).customer
    return World(identity, tenant, owner, pm, technician, customer)


@pytest.fixture
async def world(identity: Identity) -> World:
    return await new_world(identity)


def retry_after(err: grpc.aio.AioRpcError) -> int:
    return error_detail(err).retry_after_seconds

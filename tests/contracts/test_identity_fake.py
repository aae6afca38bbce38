"""tests/gateway/identity_fakes.FakeIdentity against the real identity
service: the session and token lookups and the customer and staff reads the
gateway tests make get the same refusals (status, ErrorDetail code and field),
and the fake's answers set no field the real ones do not."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.auth import Principal
from tests.contracts.sides import Refused, Side, agree, outcome
from tests.gateway import identity_fakes as IF
from tests.gateway.identity_fakes import FakeIdentity
from tests.identity.conftest import Identity, World, new_world

DENIED = Refused(grpc.StatusCode.PERMISSION_DENIED, "permission_denied", "")
SIGNED_OUT = Refused(grpc.StatusCode.UNAUTHENTICATED, "unauthenticated", "")
NO_CUSTOMER = Refused(grpc.StatusCode.NOT_FOUND, "not_found", "")


@dataclass
class Party:
    """What a test names on either side: the session token, the customer, and who asks."""

    side: Side | Identity
    token: str
    customer: str
    client: Principal
    staff: Principal
    gateway: Principal

    async def __call__(self, method: str, request: Message, who: Principal) -> Any:
        return await self.side(method, request, who)


def fake_side(side: Side, fake: FakeIdentity) -> Party:
    fake.session = IF.client_session()
    tenant = str(uuid.uuid4())
    client = Principal(
        kind="client",
        subject=IF.CONTACT_ID,
        tenant_id=tenant,
        roles=frozenset({"approver"}),
        customer_id=IF.CUSTOMER_ID,
    )
    staff = Principal(
        kind="staff", subject=IF.STAFF_ID, tenant_id=tenant, roles=frozenset({"owner"})
    )
    gateway = Principal(kind="service", subject="gateway", tenant_id=tenant)
    return Party(side, IF.GOOD_SESSION, IF.CUSTOMER_ID, client, staff, gateway)


async def real_side(world: World) -> Party:
    opened = await world.invite_and_set_password(world.approver)
    session = await world.resolve(opened.token)
    return Party(
        world.identity,
        opened.token,
        world.customer.id,
        world.person(session),
        world.staff(world.owner),
        world.gateway,
    )


@pytest.fixture
async def sides(
    fake_identity: tuple[Side, FakeIdentity], identity: Identity
) -> tuple[Party, Party]:
    return fake_side(*fake_identity), await real_side(await new_world(identity))


CASES: list[tuple[str, str, Any, Refused | None]] = [
    (
        "the gateway resolves a session",
        "gateway",
        lambda s: ("ResolveSession", pb.ResolveSessionRequest(token=s.token)),
        None,
    ),
    (
        "the gateway resolves a stale token",
        "gateway",
        lambda s: ("ResolveSession", pb.ResolveSessionRequest(token="stale")),
        SIGNED_OUT,
    ),
    (
        "a client resolves a session",
        "client",
        lambda s: ("ResolveSession", pb.ResolveSessionRequest(token=s.token)),
        DENIED,
    ),
    (
        "an unknown API token",
        "gateway",
        lambda s: ("AuthenticateApiToken", pb.AuthenticateApiTokenRequest(secret="nope")),
        SIGNED_OUT,
    ),
    (
        "a client reads their customer",
        "client",
        lambda s: ("GetCustomer", pb.GetCustomerRequest(customer_id=s.customer)),
        None,
    ),
    (
        "a client names another customer",
        "client",
        lambda s: ("GetCustomer", pb.GetCustomerRequest(customer_id=str(uuid.uuid4()))),
        NO_CUSTOMER,
    ),
    (
        "staff name an unknown customer",
        "staff",
        lambda s: ("GetCustomer", pb.GetCustomerRequest(customer_id=str(uuid.uuid4()))),
        NO_CUSTOMER,
    ),
    ("staff list customers", "staff", lambda s: ("ListCustomers", pb.ListCustomersRequest()), None),
    (
        "a client lists customers",
        "client",
        lambda s: ("ListCustomers", pb.ListCustomersRequest()),
        DENIED,
    ),
    (
        "staff list the team",
        "staff",
        lambda s: ("ListStaffUsers", pb.ListStaffUsersRequest()),
        None,
    ),
    (
        "a client lists the team",
        "client",
        lambda s: ("ListStaffUsers", pb.ListStaffUsersRequest()),
        DENIED,
    ),
]


@pytest.mark.parametrize(("name", "who", "call", "refused"), CASES, ids=[c[0] for c in CASES])
async def test_the_fake_answers_as_identity_does(
    name: str, who: str, call: Any, refused: Refused | None, sides: tuple[Party, Party]
) -> None:
    got = []
    for s in sides:
        method, request = call(s)
        answer = await outcome(s(method, request, getattr(s, who)))
        if refused is None:
            assert not isinstance(answer, Refused), (name, s.side, answer)
        else:
            assert answer == refused, (name, s.side, answer)
        got.append(answer)
    agree(got[0], got[1], name)

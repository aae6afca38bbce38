"""An in-process stand-in for identity, for the gateway tests: the session
cookie and API token lookups, and the customer and staff reads the pages make.

It refuses as identity does (tests/contracts/test_identity_fake.py holds it to
that): only the gateway may resolve a session, a client reads only their own
customer, the lists are for staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis import errors
from services.chassis.auth import current_principal

IP = identity_pb2
CUSTOMER_ID = "2d8b1b0a-9c4d-4f70-9e33-5b3a4f6e7d8c"
STAFF_ID = "9ef28c71-63b4-46e7-8faa-c2a1b0dfef03"
CONTACT_ID = "c3a9d1e2-7b4f-4c8a-9d10-1e2f3a4b5c6d"
GOOD_SESSION = "good-session"
GOOD_TOKEN = "good-token"
SIGNED_OUT = "Your session has ended. Sign in again."


def _front_door() -> None:
    """Identity answers anonymous lookups for the gateway alone."""
    if current_principal().kind not in ("service", "platform"):
        raise errors.PermissionDenied("only the portal's gateway can do this")


@dataclass
class FakeIdentity(identity_pb2_grpc.IdentityServiceServicer):
    session: identity_pb2.Session | None = None
    staff_token_user: identity_pb2.StaffUser | None = None

    async def GetTenantBySlug(self, request, context):
        """The tests' tenant, when the gateway's tenant cache has let it go
        (its 30 s outlive a slow module on a loaded machine)."""
        from tests.gateway.conftest import acme

        _front_door()
        if request.slug != acme().slug:
            raise errors.NotFound("no integrator has that address")
        return IP.GetTenantBySlugResponse(tenant=acme())

    async def ResolveSession(self, request, context):
        _front_door()
        if self.session is None or request.token != GOOD_SESSION:
            raise errors.Unauthenticated(SIGNED_OUT)
        return IP.ResolveSessionResponse(session=self.session)

    async def AuthenticateApiToken(self, request, context):
        if self.staff_token_user is None or request.secret != GOOD_TOKEN:
            raise errors.Unauthenticated("the API token is not valid for this integrator")
        return IP.AuthenticateApiTokenResponse(user=self.staff_token_user)

    async def GetCustomer(self, request, context):
        who = current_principal()
        if request.customer_id != CUSTOMER_ID or (who.is_client and who.customer_id != CUSTOMER_ID):
            raise errors.NotFound("no such customer")
        return IP.GetCustomerResponse(
            customer=IP.Customer(
                id=CUSTOMER_ID,
                name="The Harrison Residence",
                # Identity gives every contact a role and an access state to every customer.
                access_state=IP.ACCESS_STATE_ACTIVE,
                contacts=[
                    IP.Contact(
                        id=CONTACT_ID,
                        email="jane@example.com",
                        full_name="Jane H",
                        role=IP.CONTACT_ROLE_APPROVER,
                    )
                ],
            )
        )

    async def ListCustomers(self, request, context):
        current_principal().require_staff()
        return IP.ListCustomersResponse(
            customers=[IP.Customer(id=CUSTOMER_ID, name="The Harrison Residence")]
        )

    async def ListStaffUsers(self, request, context):
        current_principal().require_staff()
        return IP.ListStaffUsersResponse(
            users=[IP.StaffUser(id=STAFF_ID, email="sam@acme.example", full_name="Sam Lee")]
        )


def client_session(role: str = "approver", **extra: Any) -> identity_pb2.Session:
    fields: dict[str, Any] = {
        "id": "s-client",
        "kind": IP.PRINCIPAL_KIND_CLIENT,
        "subject_id": CONTACT_ID,
        "email": "jane@example.com",
        "full_name": "Jane Harrison & Co?",
        "customer_id": CUSTOMER_ID,
        "customer_name": "The Harrison Residence",
        "roles": [role],
        "access_state": IP.ACCESS_STATE_ACTIVE,
    }
    return IP.Session(**(fields | extra))


def staff_session() -> identity_pb2.Session:
    return IP.Session(
        id="s-staff",
        kind=IP.PRINCIPAL_KIND_STAFF,
        subject_id=STAFF_ID,
        email="sam@acme.example",
        full_name="Sam Lee",
        roles=["owner"],
    )

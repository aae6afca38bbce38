"""Customers, their contacts, invites and access (staff). The call functions
answer the API's models, which the console's customer pages render too. Identity decides
who may do what; the gateway only checks that a contact in a URL belongs to
the customer in the same URL."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line
from gateway.api.people import (
    ContactOut,
    ContactRoleName,
    CustomerOut,
    Me,
    contact_out,
    contact_role_value,
    customer_out,
    me_from_session,
)
from gateway.api.translate import masked, timestamp
from gateway.backends import Backends
from gateway.deps import BackendsDep, RequestIdDep, StaffDep, StaffSessionDep
from gateway.problems import Problem, ProblemError, problem_responses, problem_type
from gateway.sessions import SignedIn
from services.chassis.auth import Principal

router = APIRouter(
    prefix="/customers", tags=["customers"], responses=problem_responses(401, 403, 409)
)
P = identity_pb2
ACCESS_VALUES = {
    "active": P.ACCESS_STATE_ACTIVE,
    "archived": P.ACCESS_STATE_ARCHIVED,
    "deleted": P.ACCESS_STATE_DELETED,
}


class NewContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Line = Field(max_length=320)
    full_name: Line = Field(max_length=200)
    role: ContactRoleName = Field(description="approver: may approve, pay, book. viewer: reads.")


class NewCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(max_length=200)
    contacts: list[NewContact] = Field(default_factory=list, max_length=50)


class CustomerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(max_length=200)


class AccessChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["active", "archived", "deleted"] = Field(
        description="archived: read-only portal. deleted: closed, restorable for 30 days. "
        "active: restore. Every contact is emailed."
    )


class Customers(BaseModel):
    customers: list[CustomerOut]


class Invited(BaseModel):
    expires_at: datetime | None = Field(description="When the emailed link stops working.")


def _new_contact(c: NewContact) -> identity_pb2.NewContact:
    return P.NewContact(email=c.email, full_name=c.full_name, role=contact_role_value(c.role))


# -- calls the console's customer pages share ------------------------------------------


async def customers_of(
    backends: Backends, staff: Principal, *, include_deleted: bool
) -> list[CustomerOut]:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListCustomers,
        P.ListCustomersRequest(include_deleted=include_deleted),
        principal=staff,
    )
    return [customer_out(c) for c in answer.customers]


async def fetch_customer(
    backends: Backends, staff: Principal, customer_id: UUID | str
) -> CustomerOut:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.GetCustomer,
        P.GetCustomerRequest(customer_id=str(customer_id)),
        principal=staff,
    )
    return customer_out(answer.customer)


async def contact_of(
    backends: Backends, staff: Principal, customer_id: UUID | str, contact_id: UUID | str
) -> ContactOut:
    """The contact, only if it belongs to the customer in the URL."""
    customer = await fetch_customer(backends, staff, customer_id)
    for contact in customer.contacts:
        if contact.id == str(contact_id):
            return contact
    raise ProblemError(
        Problem(
            type=problem_type("not-found"),
            title="Not found",
            status=404,
            detail="That contact is not one of this customer's.",
            code="contact_not_found",
        )
    )


async def create(
    backends: Backends,
    staff: Principal,
    *,
    request_id: str,
    name: str,
    contacts: list[identity_pb2.NewContact],
) -> CustomerOut:
    identity = backends.identity
    created = await identity.call(
        identity.stub.CreateCustomer,
        P.CreateCustomerRequest(request_id=request_id, name=name, contacts=contacts),
        principal=staff,
    )
    return customer_out(created.customer)


async def add(
    backends: Backends,
    staff: Principal,
    customer_id: UUID | str,
    *,
    request_id: str,
    contact: identity_pb2.NewContact,
) -> ContactOut:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.AddContact,
        P.AddContactRequest(request_id=request_id, customer_id=str(customer_id), contact=contact),
        principal=staff,
    )
    return contact_out(answer.contact)


async def remove(backends: Backends, staff: Principal, contact_id: str) -> None:
    identity = backends.identity
    await identity.call(
        identity.stub.RemoveContact, P.RemoveContactRequest(contact_id=contact_id), principal=staff
    )


async def invite(backends: Backends, staff: Principal, contact_id: str) -> Invited:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.InviteContact, P.InviteContactRequest(contact_id=contact_id), principal=staff
    )
    return Invited(expires_at=timestamp(answer, "expires_at"))


async def change_access_to(
    backends: Backends, staff: Principal, customer_id: UUID | str, state: str
) -> CustomerOut:
    """Archive, delete or restore (`state` is a key of ACCESS_VALUES)."""
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ChangeCustomerAccess,
        P.ChangeCustomerAccessRequest(customer_id=str(customer_id), to=ACCESS_VALUES[state]),
        principal=staff,
    )
    return customer_out(answer.customer)


async def view_as_customer(backends: Backends, signed_in: SignedIn, customer_id: UUID | str) -> Me:
    """This browser session becomes the customer's read-only portal (audited)."""
    identity = backends.identity
    answer = await identity.call(
        identity.stub.StartViewAsClient,
        P.StartViewAsClientRequest(
            current_session_id=signed_in.session.id, customer_id=str(customer_id)
        ),
        principal=signed_in.person,
    )
    return me_from_session(answer.session, csrf_token=signed_in.csrf_token)


# -- routes -------------------------------------------------------------------------------


@router.get("", summary="List customers with their contacts and access state")
async def list_customers(
    staff: StaffDep, backends: BackendsDep, include_deleted: bool = False
) -> Customers:
    return Customers(customers=await customers_of(backends, staff, include_deleted=include_deleted))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer with its contacts",
    responses=problem_responses(422),
)
async def create_customer(
    body: NewCustomer,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> CustomerOut:
    created = await create(
        backends,
        staff,
        request_id=request_id,
        name=body.name,
        contacts=[_new_contact(c) for c in body.contacts],
    )
    response.headers["Location"] = request.app.url_path_for("get_customer", customer_id=created.id)
    return created


@router.get("/{customer_id}", summary="Get a customer", responses=problem_responses(404))
async def get_customer(customer_id: UUID, staff: StaffDep, backends: BackendsDep) -> CustomerOut:
    return await fetch_customer(backends, staff, customer_id)


@router.patch("/{customer_id}", summary="Rename a customer", responses=problem_responses(404, 422))
async def update_customer(
    customer_id: UUID, body: CustomerChange, staff: StaffDep, backends: BackendsDep
) -> CustomerOut:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.UpdateCustomer,
        masked(P.UpdateCustomerRequest(customer_id=str(customer_id)), body.model_dump()),
        principal=staff,
    )
    return customer_out(answer.customer)


@router.post(
    "/{customer_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    summary="Add a contact (their own login); invite them to set a password",
    responses=problem_responses(404, 422),
)
async def add_contact(
    customer_id: UUID,
    body: NewContact,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
) -> ContactOut:
    return await add(
        backends, staff, customer_id, request_id=request_id, contact=_new_contact(body)
    )


@router.delete(
    "/{customer_id}/contacts/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a contact; their sessions end at once",
    responses=problem_responses(404),
)
async def remove_contact(
    customer_id: UUID, contact_id: UUID, staff: StaffDep, backends: BackendsDep
) -> None:
    contact = await contact_of(backends, staff, customer_id, contact_id)
    await remove(backends, staff, contact.id)


@router.post(
    "/{customer_id}/contacts/{contact_id}/invite",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email the contact a one-time link to set their password",
    responses=problem_responses(404),
)
async def invite_contact(
    customer_id: UUID, contact_id: UUID, staff: StaffDep, backends: BackendsDep
) -> Invited:
    contact = await contact_of(backends, staff, customer_id, contact_id)
    return await invite(backends, staff, contact.id)


@router.post(
    "/{customer_id}/access",
    summary="Archive, delete or restore a customer's portal; every contact is emailed",
    responses=problem_responses(404, 422),
)
async def change_access(
    customer_id: UUID, body: AccessChange, staff: StaffDep, backends: BackendsDep
) -> CustomerOut:
    return await change_access_to(backends, staff, customer_id, body.state)


@router.post(
    "/{customer_id}/view-as",
    summary="Switch this browser session to the customer's portal, read-only (audited)",
    description="Needs the session cookie: it changes the session. "
    "Leave with the page's 'Exit client view' button.",
    responses=problem_responses(404),
)
async def view_as(customer_id: UUID, signed_in: StaffSessionDep, backends: BackendsDep) -> Me:
    return await view_as_customer(backends, signed_in, customer_id)

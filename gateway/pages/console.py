"""The staff console: customers, their contacts and invites, their access
(archive / restore / delete, each confirmed first), and "view as client"."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from portal.identity.v1 import identity_pb2
from starlette.responses import Response

from gateway.api import customers
from gateway.api.people import ContactOut, CustomerOut
from gateway.backends import RemoteError
from gateway.deps import BackendsDep, StaffPage
from gateway.pages.console_dispatch import visits_of_customer
from gateway.pages.rendering import (
    Form,
    Refusal,
    looks_like_email,
    refusal,
    render,
    see_other,
    signed_in_form,
)

router = APIRouter(include_in_schema=False)
P = identity_pb2

ROLE_VALUES = {"approver": P.CONTACT_ROLE_APPROVER, "viewer": P.CONTACT_ROLE_VIEWER}
# What each change means, in the words the confirmation page uses.
ACCESS_CHANGES = {
    "archived": {
        "verb": "Archive",
        "done": "archived",
        "explain": "Their contacts can still sign in and look back at everything, but cannot "
        "approve, pay or book anything. You can restore full access at any time.",
    },
    "deleted": {
        "verb": "Delete",
        "done": "deleted",
        "explain": "Their portal closes at once and every contact is signed out. You can "
        "restore it for 30 days; after that it is purged for good.",
    },
    "active": {
        "verb": "Restore",
        "done": "restored",
        "explain": "Their portal opens again with full access for every contact.",
    },
}


def _request_id(form: Form) -> str:
    """The form's own id (rendered with it), so a double-click creates one thing."""
    value = form.get("request_id")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.uuid4())


def _new_contact(form: Form) -> tuple[P.NewContact, dict[str, str]]:
    errors = {}
    name, email, role = form["contact_name"], form["contact_email"], form["contact_role"]
    if not name:
        errors["contact_name"] = "Enter the contact's name."
    if not looks_like_email(email):
        errors["contact_email"] = "Enter an email address, like name@example.com."
    if role not in ROLE_VALUES:
        errors["contact_role"] = "Choose approver or viewer."
    contact = P.NewContact(email=email, full_name=name, role=ROLE_VALUES.get(role, 0))
    return contact, errors


def _contact_errors(why: Refusal) -> dict[str, str]:
    """A refusal's field errors, the contact's `email` and `full_name` prefixed
    with `contact_` as the form's fields are, so each sits by its field."""
    return {f"contact_{k}" if k in ("email", "full_name") else k: v for k, v in why.fields.items()}


# -- customers list -------------------------------------------------------------


async def _customers_page(
    request: Request,
    signed_in: StaffPage,
    backends: BackendsDep,
    *,
    status: int = 200,
    form: Form | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    listed = await customers.customers_of(backends, signed_in.person, include_deleted=True)
    return render(
        request,
        "console/customers.html",
        signed_in=signed_in,
        surface="console",
        status=status,
        customers=sorted(listed, key=lambda c: (c.access_state or "", c.name.lower())),
        form=form,
        request_id=str(uuid.uuid4()),
        error=error,
        errors=errors or {},
    )


@router.get("/console")
async def console(request: Request, signed_in: StaffPage, backends: BackendsDep) -> Response:
    return await _customers_page(request, signed_in, backends)


@router.post("/console/customers")
async def create_customer(
    request: Request, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    contact, errors = _new_contact(form)
    if not form["name"]:
        errors["name"] = "Enter the customer's name, e.g. The Harrison Residence."
    if errors:
        return await _customers_page(
            request, signed_in, backends, status=422, form=form, errors=errors
        )
    try:
        customer = await customers.create(
            backends,
            signed_in.person,
            request_id=_request_id(form),
            name=form["name"],
            contacts=[contact],
        )
    except RemoteError as exc:
        why = refusal(exc)
        return await _customers_page(
            request,
            signed_in,
            backends,
            status=why.status,
            form=form,
            error=why.message,
            errors=_contact_errors(why),
        )
    message = f"{customer.name} is added."
    if form.has("invite") and customer.contacts:
        await customers.invite(backends, signed_in.person, customer.contacts[0].id)
        message += f" An invitation is on its way to {customer.contacts[0].email}."
    return see_other(request, f"/console/customers/{customer.id}", flash=message)


# -- one customer ------------------------------------------------------------------


async def _customer(backends: BackendsDep, signed_in: StaffPage, customer_id: str) -> CustomerOut:
    return await customers.fetch_customer(backends, signed_in.person, customer_id[:100])


async def _contact(
    backends: BackendsDep, signed_in: StaffPage, customer_id: str, contact_id: str
) -> ContactOut:
    return await customers.contact_of(backends, signed_in.person, customer_id[:100], contact_id)


async def _customer_page(
    request: Request,
    signed_in: StaffPage,
    backends: BackendsDep,
    customer_id: str,
    *,
    status: int = 200,
    form: Form | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    customer = await _customer(backends, signed_in, customer_id)
    visits, visits_note = await visits_of_customer(backends, signed_in, customer.id)
    return render(
        request,
        "console/customer.html",
        visits=visits,
        visits_note=visits_note,
        signed_in=signed_in,
        surface="console",
        status=status,
        customer=customer,
        form=form,
        request_id=str(uuid.uuid4()),
        error=error,
        errors=errors or {},
    )


@router.get("/console/customers/{customer_id}")
async def customer_page(
    request: Request, customer_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    return await _customer_page(request, signed_in, backends, customer_id)


@router.post("/console/customers/{customer_id}/contacts")
async def add_contact(
    request: Request, customer_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    contact, errors = _new_contact(form)
    if errors:
        return await _customer_page(
            request, signed_in, backends, customer_id, status=422, form=form, errors=errors
        )
    try:
        added = await customers.add(
            backends,
            signed_in.person,
            customer_id,
            request_id=_request_id(form),
            contact=contact,
        )
    except RemoteError as exc:
        why = refusal(exc)
        return await _customer_page(
            request,
            signed_in,
            backends,
            customer_id,
            status=why.status,
            form=form,
            error=why.message,
            errors=_contact_errors(why),
        )
    message = f"{added.full_name} is added."
    if form.has("invite"):
        await customers.invite(backends, signed_in.person, added.id)
        message += f" An invitation is on its way to {added.email}."
    return see_other(request, f"/console/customers/{customer_id}", flash=message)


@router.post("/console/customers/{customer_id}/contacts/{contact_id}/invite")
async def invite_contact(
    request: Request,
    customer_id: str,
    contact_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
) -> Response:
    await signed_in_form(request, signed_in)
    contact = await _contact(backends, signed_in, customer_id, contact_id)
    try:
        await customers.invite(backends, signed_in.person, contact.id)
    except RemoteError as exc:
        why = refusal(exc)
        return see_other(
            request, f"/console/customers/{customer_id}", flash=why.message, kind="error"
        )
    return see_other(
        request,
        f"/console/customers/{customer_id}",
        flash=f"An invitation is on its way to {contact.email}.",
    )


@router.post("/console/customers/{customer_id}/contacts/{contact_id}/remove")
async def remove_contact(
    request: Request,
    customer_id: str,
    contact_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
) -> Response:
    await signed_in_form(request, signed_in)
    contact = await _contact(backends, signed_in, customer_id, contact_id)
    await customers.remove(backends, signed_in.person, contact.id)
    return see_other(
        request,
        f"/console/customers/{customer_id}",
        flash=f"{contact.full_name} is removed and signed out everywhere.",
    )


@router.get("/console/customers/{customer_id}/access")
async def confirm_access_change(
    request: Request, customer_id: str, signed_in: StaffPage, backends: BackendsDep, to: str = ""
) -> Response:
    if to not in ACCESS_CHANGES:
        return see_other(request, f"/console/customers/{customer_id}")
    customer = await _customer(backends, signed_in, customer_id)
    return render(
        request,
        "console/confirm_access.html",
        signed_in=signed_in,
        surface="console",
        customer=customer,
        to=to,
        change=ACCESS_CHANGES[to],
    )


@router.post("/console/customers/{customer_id}/access")
async def change_access(
    request: Request, customer_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    to = form["to"]
    if to not in customers.ACCESS_VALUES:
        return see_other(request, f"/console/customers/{customer_id}")
    try:
        changed = await customers.change_access_to(backends, signed_in.person, customer_id, to)
    except RemoteError as exc:
        why = refusal(exc)
        return see_other(
            request, f"/console/customers/{customer_id}", flash=why.message, kind="error"
        )
    done = ACCESS_CHANGES[to]["done"]
    return see_other(
        request,
        f"/console/customers/{customer_id}",
        flash=f"{changed.name} is {done}. Every contact has been emailed.",
    )


@router.post("/console/customers/{customer_id}/view-as")
async def view_as_client(
    request: Request, customer_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    await signed_in_form(request, signed_in)
    try:
        await customers.view_as_customer(backends, signed_in, customer_id)
    except RemoteError as exc:
        why = refusal(exc)
        return see_other(
            request, f"/console/customers/{customer_id}", flash=why.message, kind="error"
        )
    return see_other(request, "/home")

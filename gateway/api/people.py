"""Shapes the auth, me and customers APIs share: the signed-in person, their
sessions, customers and contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, Field

from gateway.api.translate import timestamp
from gateway.sessions import SignedIn, role_names
from services.chassis import enums

AccessStateName = Literal["active", "archived", "deleted", "purged"]
ContactRoleName = Literal["approver", "viewer"]
P = identity_pb2


def access_state_name(value: identity_pb2.AccessState.ValueType) -> AccessStateName | None:
    if value == P.ACCESS_STATE_UNSPECIFIED:
        return None
    return enums.short_name(P.AccessState, value)  # type: ignore[return-value]


def contact_role_name(value: identity_pb2.ContactRole.ValueType) -> str:
    return enums.short_name(P.ContactRole, value)


def contact_role_value(name: str) -> identity_pb2.ContactRole.ValueType:
    return enums.value(P.ContactRole, name)


class Me(BaseModel):
    kind: Literal["staff", "client"]
    id: str = Field(description="The staff user's or the contact's id.")
    email: str
    full_name: str
    roles: list[str] = Field(
        description="Staff: owner, admin, project_manager, technician, finance. "
        "Client: approver or viewer."
    )
    customer_id: str | None = Field(description="Clients, and staff viewing as a client.")
    customer_name: str | None
    access_state: AccessStateName | None = Field(
        description="The customer's access: archived means read-only."
    )
    read_only: bool = Field(description="Nothing can be signed, paid or booked.")
    view_as_client: bool = Field(description="Staff looking at a customer's portal.")
    session_id: str | None = Field(description="Null for API-token callers.")
    csrf_token: str | None = Field(
        description="With the session cookie: send as X-CSRF-Token on POST, PATCH, DELETE."
    )


def me_from_session(session: identity_pb2.Session, *, csrf_token: str | None) -> Me:
    return Me(
        kind="staff" if session.kind == P.PRINCIPAL_KIND_STAFF else "client",
        id=session.subject_id,
        email=session.email,
        full_name=session.full_name,
        roles=sorted(role_names(session.roles)),
        customer_id=session.customer_id or None,
        customer_name=session.customer_name or None,
        access_state=access_state_name(session.access_state),
        read_only=session.read_only,
        view_as_client=session.view_as_client,
        session_id=session.id,
        csrf_token=csrf_token,
    )


def me_out(signed_in: SignedIn) -> Me:
    return me_from_session(signed_in.session, csrf_token=signed_in.csrf_token)


class SessionOut(BaseModel):
    id: str
    current: bool = Field(description="The session this request came with.")
    user_agent: str
    ip: str
    created_at: datetime | None
    last_seen_at: datetime | None
    expires_at: datetime | None


def session_out(s: identity_pb2.Session, *, current_id: str) -> SessionOut:
    return SessionOut(
        id=s.id,
        current=s.id == current_id,
        user_agent=s.user_agent,
        ip=s.ip,
        created_at=timestamp(s, "created_at"),
        last_seen_at=timestamp(s, "last_seen_at"),
        expires_at=timestamp(s, "expires_at"),
    )


class ContactOut(BaseModel):
    id: str
    email: str
    full_name: str
    role: ContactRoleName
    has_password: bool
    invited_at: datetime | None
    last_sign_in_at: datetime | None


class CustomerOut(BaseModel):
    id: str
    name: str
    access_state: AccessStateName | None
    access_changed_at: datetime | None
    purge_after: datetime | None = Field(description="Set while deleted: restorable until then.")
    contacts: list[ContactOut]


def contact_out(c: identity_pb2.Contact) -> ContactOut:
    return ContactOut(
        id=c.id,
        email=c.email,
        full_name=c.full_name,
        role=contact_role_name(c.role),  # type: ignore[arg-type]  # validated by the model
        has_password=c.has_password,
        invited_at=timestamp(c, "invited_at"),
        last_sign_in_at=timestamp(c, "last_sign_in_at"),
    )


def customer_out(c: identity_pb2.Customer) -> CustomerOut:
    return CustomerOut(
        id=c.id,
        name=c.name,
        access_state=access_state_name(c.access_state),
        access_changed_at=timestamp(c, "access_changed_at"),
        purge_after=timestamp(c, "purge_after"),
        contacts=[contact_out(x) for x in c.contacts],
    )

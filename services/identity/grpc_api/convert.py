"""Model and service results -> protobuf messages, and enum names both ways."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import identity_pb2 as pb

from services.chassis import enums
from services.identity.models import ApiToken, AuditEntry, Contact, Customer, StaffUser, Tenant
from services.identity.service import ClientInfo, LinkInfo, OpenedSession, SessionView

_KIND = {"staff": pb.PRINCIPAL_KIND_STAFF, "client": pb.PRINCIPAL_KIND_CLIENT}


def _enum_name(enum, value: int) -> str:
    # A number newer than this server gets a name the domain refuses.
    return enums.short_name(enum, value, unknown=f"unknown({value})")


def staff_role_name(value: int) -> str:
    return _enum_name(pb.StaffRole, value)


def staff_role_value(name: str) -> pb.StaffRole.ValueType:
    return enums.value(pb.StaffRole, name)


def contact_role_name(value: int) -> str:
    return _enum_name(pb.ContactRole, value)


def access_state_name(value: int) -> str:
    return _enum_name(pb.AccessState, value)


def access_state_value(name: str | None) -> pb.AccessState.ValueType:
    if not name:
        return pb.ACCESS_STATE_UNSPECIFIED
    return enums.value(pb.AccessState, name)


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def client_info(client: pb.ClientInfo) -> ClientInfo:
    return ClientInfo(ip=client.ip, user_agent=client.user_agent)


def tenant_pb(t: Tenant) -> pb.Tenant:
    return pb.Tenant(
        id=str(t.id),
        slug=t.slug,
        display_name=t.display_name,
        branding=pb.Branding(
            logo_url=t.logo_url,
            splash_image_url=t.splash_image_url,
            headline=t.headline,
            accent_color=t.accent_color,
            support_email=t.support_email,
            support_phone=t.support_phone,
            postal_address=t.postal_address,
            website=t.website,
        ),
        time_zone=t.time_zone,
        currency=t.currency,
        region=t.region,
        signing_reauth_minutes=t.signing_reauth_minutes,
    )


def staff_pb(u: StaffUser) -> pb.StaffUser:
    return pb.StaffUser(
        id=str(u.id),
        email=u.email,
        full_name=u.full_name,
        roles=[staff_role_value(r) for r in u.roles],
    )


def token_pb(t: ApiToken) -> pb.ApiToken:
    return pb.ApiToken(
        id=str(t.id),
        name=t.name,
        user_id=str(t.user_id),
        prefix=t.prefix,
        created_at=ts(t.created_at),
        last_used_at=ts(t.last_used_at),
        revoked_at=ts(t.revoked_at),
    )


def contact_pb(c: Contact) -> pb.Contact:
    return pb.Contact(
        id=str(c.id),
        email=c.email,
        full_name=c.full_name,
        role=enums.value(pb.ContactRole, c.role),
        has_password=c.has_password,
        invited_at=ts(c.invited_at),
        last_sign_in_at=ts(c.last_sign_in_at),
    )


def customer_pb(c: Customer) -> pb.Customer:
    return pb.Customer(
        id=str(c.id),
        name=c.name,
        contacts=[contact_pb(x) for x in c.current_contacts],
        access_state=access_state_value(c.access_state),
        access_changed_at=ts(c.access_changed_at),
        purge_after=ts(c.purge_after),
    )


def session_pb(s: SessionView) -> pb.Session:
    return pb.Session(
        id=s.id,
        kind=_KIND[s.kind],
        subject_id=s.subject_id,
        email=s.email,
        full_name=s.full_name,
        roles=s.roles,
        customer_id=s.customer_id or "",
        access_state=access_state_value(s.access_state),
        read_only=s.read_only,
        view_as_client=s.view_as_client,
        user_agent=s.user_agent,
        ip=s.ip,
        created_at=ts(s.created_at),
        last_seen_at=ts(s.last_seen_at),
        expires_at=ts(s.expires_at),
        customer_name=s.customer_name,
        authenticated_at=ts(s.authenticated_at),
        auth_method=s.auth_method,
    )


def new_session_pb(s: OpenedSession | None) -> pb.NewSession | None:
    if s is None:
        return None
    return pb.NewSession(token=s.token, session=session_pb(s.session))


def link_info_pb(info: LinkInfo) -> pb.InspectLoginTokenResponse:
    return pb.InspectLoginTokenResponse(
        purpose=enums.value(pb.LoginTokenPurpose, info.purpose),
        email=info.email,
        full_name=info.full_name,
        expires_at=ts(info.expires_at),
        kind=_KIND[info.kind],
    )


def audit_pb(e: AuditEntry) -> pb.AuditEntry:
    return pb.AuditEntry(
        id=str(e.id),
        actor=e.actor,
        action=e.action,
        target=e.target,
        detail=e.detail,
        at=ts(e.at),
    )

"""IdentityService over gRPC: translate, call service.py, translate back."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import identity_pb2 as pb
from portal.identity.v1 import identity_pb2_grpc

from services.chassis.auth import current_principal
from services.identity import service
from services.identity.models import ApiToken, Customer, StaffUser, Tenant

STAFF_ROLE_PREFIX = "STAFF_ROLE_"
CONTACT_ROLE_PREFIX = "CONTACT_ROLE_"


def staff_role_name(value: int) -> str:
    return pb.StaffRole.Name(value).removeprefix(STAFF_ROLE_PREFIX).lower()


def staff_role_value(name: str) -> int:
    return pb.StaffRole.Value(STAFF_ROLE_PREFIX + name.upper())


def contact_role_name(value: int) -> str:
    return pb.ContactRole.Name(value).removeprefix(CONTACT_ROLE_PREFIX).lower()


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


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
        ),
        time_zone=t.time_zone,
        currency=t.currency,
        region=t.region,
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
        created_at=_ts(t.created_at),
        last_used_at=_ts(t.last_used_at),
        revoked_at=_ts(t.revoked_at),
    )


def customer_pb(c: Customer) -> pb.Customer:
    return pb.Customer(
        id=str(c.id),
        name=c.name,
        contacts=[
            pb.Contact(
                id=str(x.id),
                email=x.email,
                full_name=x.full_name,
                role=pb.ContactRole.Value(CONTACT_ROLE_PREFIX + x.role.upper()),
            )
            for x in c.contacts
        ],
    )


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, sessions) -> None:
        self._sessions = sessions

    async def GetTenantBySlug(self, request, context):
        current_principal()
        tenant = await service.get_tenant_by_slug(sessions=self._sessions, slug=request.slug)
        return pb.GetTenantBySlugResponse(tenant=tenant_pb(tenant))

    async def GetTenant(self, request, context):
        current_principal()
        tenant = await service.get_tenant(sessions=self._sessions, tenant_id=request.tenant_id)
        return pb.GetTenantResponse(tenant=tenant_pb(tenant))

    async def CreateTenant(self, request, context):
        b = request.branding
        tenant = await service.create_tenant(
            sessions=self._sessions,
            principal=current_principal(),
            slug=request.slug,
            display_name=request.display_name,
            branding=service.BrandingInput(
                logo_url=b.logo_url,
                splash_image_url=b.splash_image_url,
                headline=b.headline,
                accent_color=b.accent_color,
                support_email=b.support_email,
                support_phone=b.support_phone,
            ),
            time_zone=request.time_zone,
            currency=request.currency,
            region=request.region,
        )
        return pb.CreateTenantResponse(tenant=tenant_pb(tenant))

    async def CreateStaffUser(self, request, context):
        user = await service.create_staff_user(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            email=request.email,
            full_name=request.full_name,
            roles=[staff_role_name(r) for r in request.roles if r],
        )
        return pb.CreateStaffUserResponse(user=staff_pb(user))

    async def IssueApiToken(self, request, context):
        token, secret = await service.issue_api_token(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            user_id=request.user_id,
            name=request.name,
        )
        return pb.IssueApiTokenResponse(token=token_pb(token), secret=secret)

    async def RevokeApiToken(self, request, context):
        token = await service.revoke_api_token(
            sessions=self._sessions, principal=current_principal(), token_id=request.token_id
        )
        return pb.RevokeApiTokenResponse(token=token_pb(token))

    async def ListApiTokens(self, request, context):
        tokens = await service.list_api_tokens(
            sessions=self._sessions, principal=current_principal()
        )
        return pb.ListApiTokensResponse(tokens=[token_pb(t) for t in tokens])

    async def AuthenticateApiToken(self, request, context):
        token = await service.authenticate_api_token(
            sessions=self._sessions, principal=current_principal(), secret=request.secret
        )
        return pb.AuthenticateApiTokenResponse(user=staff_pb(token.user), token_id=str(token.id))

    async def CreateCustomer(self, request, context):
        customer = await service.create_customer(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            name=request.name,
            contacts=[(c.email, c.full_name, contact_role_name(c.role)) for c in request.contacts],
        )
        return pb.CreateCustomerResponse(customer=customer_pb(customer))

    async def GetCustomer(self, request, context):
        customer = await service.get_customer(
            sessions=self._sessions,
            principal=current_principal(),
            customer_id=request.customer_id,
        )
        return pb.GetCustomerResponse(customer=customer_pb(customer))

"""IdentityService over gRPC: translate, call the service layer, translate back."""

from __future__ import annotations

from datetime import UTC

from portal.identity.v1 import identity_pb2 as pb
from portal.identity.v1 import identity_pb2_grpc

from services.chassis import fieldmask
from services.chassis.auth import current_principal
from services.chassis.sealing import MasterKeys
from services.identity import domain_updates, service
from services.identity.grpc_api.brand import BrandRpcs
from services.identity.grpc_api.convert import (
    access_state_name,
    audit_pb,
    client_info,
    contact_pb,
    contact_role_name,
    customer_pb,
    link_info_pb,
    new_session_pb,
    session_pb,
    staff_pb,
    staff_role_name,
    tenant_pb,
    token_pb,
    ts,
)
from services.identity.grpc_api.step_up import StepUpRpcs
from services.identity.passwords import Passwords


def _branding(b: pb.Branding) -> service.BrandingInput:
    return service.BrandingInput(
        logo_url=b.logo_url,
        splash_image_url=b.splash_image_url,
        headline=b.headline,
        accent_color=b.accent_color,
        support_email=b.support_email,
        support_phone=b.support_phone,
        postal_address=b.postal_address,
        website=b.website,
    )


def _tenant_changes(request: pb.UpdateTenantRequest) -> dict[str, object]:
    """The mask's changes keyed by column: a whole branding block as its six fields."""
    out: dict[str, object] = {}
    for path, value in fieldmask.changes(request, allowed=domain_updates.TENANT_PATHS).items():
        if path == "branding":
            out |= {name: getattr(value, name) for name in domain_updates.BRANDING_FIELDS}
        else:
            out[path.removeprefix("branding.")] = value
    return out


def _new_contact(c: pb.NewContact) -> service.NewContact:
    return service.NewContact(
        email=c.email,
        full_name=c.full_name,
        role=contact_role_name(c.role),
        initial_password=c.initial_password,
    )


class IdentityServicer(BrandRpcs, StepUpRpcs, identity_pb2_grpc.IdentityServiceServicer):
    def __init__(
        self, sessions, *, brand_keys: MasterKeys, passwords: Passwords | None = None
    ) -> None:
        self._sessions = sessions
        self._brand_keys = brand_keys  # seals uploaded logos and splash images
        self._passwords = passwords or Passwords()

    # --- tenants, staff, API tokens -------------------------------------------

    async def GetTenantBySlug(self, request, context):
        current_principal()
        tenant = await service.get_tenant_by_slug(sessions=self._sessions, slug=request.slug)
        return pb.GetTenantBySlugResponse(tenant=tenant_pb(tenant))

    async def GetTenant(self, request, context):
        current_principal()
        tenant = await service.get_tenant(sessions=self._sessions, tenant_id=request.tenant_id)
        return pb.GetTenantResponse(tenant=tenant_pb(tenant))

    async def CreateTenant(self, request, context):
        tenant = await service.create_tenant(
            sessions=self._sessions,
            principal=current_principal(),
            slug=request.slug,
            display_name=request.display_name,
            branding=_branding(request.branding),
            time_zone=request.time_zone,
            currency=request.currency,
            region=request.region,
        )
        return pb.CreateTenantResponse(tenant=tenant_pb(tenant))

    async def OnboardTenant(self, request, context):
        onboarded = await service.onboard_tenant(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            request=service.OnboardingRequest(
                slug=request.slug,
                display_name=request.display_name,
                owner_email=request.owner_email,
                owner_name=request.owner_name,
                time_zone=request.time_zone,
                currency=request.currency,
                region=request.region,
                branding=_branding(request.branding),
            ),
        )
        return pb.OnboardTenantResponse(
            tenant=tenant_pb(onboarded.tenant),
            owner=staff_pb(onboarded.owner),
            invite_expires_at=ts(onboarded.invite_expires_at),
            created=onboarded.created,
        )

    async def UpdateTenant(self, request, context):
        tenant = await service.update_tenant(
            sessions=self._sessions,
            principal=current_principal(),
            changes=_tenant_changes(request),
        )
        return pb.UpdateTenantResponse(tenant=tenant_pb(tenant))

    async def CreateStaffUser(self, request, context):
        user = await service.create_staff_user(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            email=request.email,
            full_name=request.full_name,
            roles=[staff_role_name(r) for r in request.roles if r],
            passwords=self._passwords,
            initial_password=request.initial_password,
        )
        return pb.CreateStaffUserResponse(user=staff_pb(user))

    async def ListStaffUsers(self, request, context):
        users = await service.list_staff_users(
            sessions=self._sessions, principal=current_principal()
        )
        return pb.ListStaffUsersResponse(users=[staff_pb(u) for u in users])

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
        return pb.AuthenticateApiTokenResponse(
            user=staff_pb(token.user), token_id=str(token.token_id)
        )

    async def ListAuditEntries(self, request, context):
        entries = await service.list_audit_entries(
            sessions=self._sessions, principal=current_principal(), limit=request.limit
        )
        return pb.ListAuditEntriesResponse(entries=[audit_pb(e) for e in entries])

    # --- customers and contacts -------------------------------------------------

    async def CreateCustomer(self, request, context):
        customer = await service.create_customer(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            name=request.name,
            contacts=[_new_contact(c) for c in request.contacts],
            passwords=self._passwords,
        )
        return pb.CreateCustomerResponse(customer=customer_pb(customer))

    async def GetCustomer(self, request, context):
        customer = await service.get_customer(
            sessions=self._sessions,
            principal=current_principal(),
            customer_id=request.customer_id,
        )
        return pb.GetCustomerResponse(customer=customer_pb(customer))

    async def ListCustomers(self, request, context):
        customers = await service.list_customers(
            sessions=self._sessions,
            principal=current_principal(),
            include_deleted=request.include_deleted,
        )
        return pb.ListCustomersResponse(customers=[customer_pb(c) for c in customers])

    async def UpdateCustomer(self, request, context):
        customer = await service.update_customer(
            sessions=self._sessions,
            principal=current_principal(),
            customer_id=request.customer_id,
            changes=fieldmask.changes(request, allowed=domain_updates.CUSTOMER_FIELDS),
        )
        return pb.UpdateCustomerResponse(customer=customer_pb(customer))

    async def AddContact(self, request, context):
        contact = await service.add_contact(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            customer_id=request.customer_id,
            contact=_new_contact(request.contact),
            passwords=self._passwords,
        )
        return pb.AddContactResponse(contact=contact_pb(contact))

    async def RemoveContact(self, request, context):
        await service.remove_contact(
            sessions=self._sessions, principal=current_principal(), contact_id=request.contact_id
        )
        return pb.RemoveContactResponse()

    async def ChangeCustomerAccess(self, request, context):
        customer = await service.change_customer_access(
            sessions=self._sessions,
            principal=current_principal(),
            customer_id=request.customer_id,
            to=access_state_name(request.to),
        )
        return pb.ChangeCustomerAccessResponse(customer=customer_pb(customer))

    async def PurgeDeletedCustomers(self, request, context):
        purged = await service.purge_deleted_customers(
            sessions=self._sessions,
            principal=current_principal(),
            now=request.now.ToDatetime(tzinfo=UTC) if request.HasField("now") else None,
        )
        return pb.PurgeDeletedCustomersResponse(purged=purged)

    # --- the front door -------------------------------------------------------------

    async def InviteContact(self, request, context):
        expires_at = await service.invite_contact(
            sessions=self._sessions, principal=current_principal(), contact_id=request.contact_id
        )
        return pb.InviteContactResponse(expires_at=ts(expires_at))

    async def RequestMagicLink(self, request, context):
        await service.request_link(
            sessions=self._sessions,
            principal=current_principal(),
            purpose="magic_link",
            email=request.email,
            client_ip=request.client_ip,
        )
        return pb.RequestMagicLinkResponse()

    async def RequestPasswordReset(self, request, context):
        await service.request_link(
            sessions=self._sessions,
            principal=current_principal(),
            purpose="password_reset",
            email=request.email,
            client_ip=request.client_ip,
        )
        return pb.RequestPasswordResetResponse()

    async def InspectLoginToken(self, request, context):
        info = await service.inspect_login_token(
            sessions=self._sessions, principal=current_principal(), token=request.token
        )
        return link_info_pb(info)

    async def RedeemLoginToken(self, request, context):
        opened = await service.redeem_login_token(
            sessions=self._sessions,
            passwords=self._passwords,
            principal=current_principal(),
            token=request.token,
            new_password=request.new_password,
            client=client_info(request.client),
        )
        return pb.RedeemLoginTokenResponse(session=new_session_pb(opened))

    async def SignIn(self, request, context):
        result = await service.sign_in(
            sessions=self._sessions,
            passwords=self._passwords,
            principal=current_principal(),
            email=request.email,
            password=request.password,
            totp_code=request.totp_code,
            client=client_info(request.client),
        )
        return pb.SignInResponse(
            session=new_session_pb(result.session), totp_required=result.totp_required
        )

    async def ResolveSession(self, request, context):
        view = await service.resolve_session(
            sessions=self._sessions, principal=current_principal(), token=request.token
        )
        return pb.ResolveSessionResponse(session=session_pb(view))

    async def SignOut(self, request, context):
        await service.sign_out(
            sessions=self._sessions, principal=current_principal(), token=request.token
        )
        return pb.SignOutResponse()

    async def ListSessions(self, request, context):
        views = await service.list_sessions(
            sessions=self._sessions,
            principal=current_principal(),
            current_session_id=request.current_session_id,
        )
        return pb.ListSessionsResponse(sessions=[session_pb(v) for v in views])

    async def RevokeSessions(self, request, context):
        revoked = await service.revoke_sessions(
            sessions=self._sessions,
            principal=current_principal(),
            current_session_id=request.current_session_id,
            session_id=request.session_id,
            all_but_current=request.all_but_current,
        )
        return pb.RevokeSessionsResponse(revoked=revoked)

    async def StartViewAsClient(self, request, context):
        view = await service.start_view_as_client(
            sessions=self._sessions,
            principal=current_principal(),
            current_session_id=request.current_session_id,
            customer_id=request.customer_id,
        )
        return pb.StartViewAsClientResponse(session=session_pb(view))

    async def StopViewAsClient(self, request, context):
        view = await service.stop_view_as_client(
            sessions=self._sessions,
            principal=current_principal(),
            current_session_id=request.current_session_id,
        )
        return pb.StopViewAsClientResponse(session=session_pb(view))

    async def ChangePassword(self, request, context):
        await service.change_password(
            sessions=self._sessions,
            passwords=self._passwords,
            principal=current_principal(),
            current_password=request.current_password,
            new_password=request.new_password,
            current_session_id=request.current_session_id,
        )
        return pb.ChangePasswordResponse()

    async def BeginTotpEnrollment(self, request, context):
        secret, uri = await service.begin_totp_enrollment(
            sessions=self._sessions, principal=current_principal()
        )
        return pb.BeginTotpEnrollmentResponse(secret=secret, otpauth_uri=uri)

    async def ConfirmTotpEnrollment(self, request, context):
        codes = await service.confirm_totp_enrollment(
            sessions=self._sessions, principal=current_principal(), code=request.code
        )
        return pb.ConfirmTotpEnrollmentResponse(recovery_codes=codes)

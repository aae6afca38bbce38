"""Identity use cases: one transaction each, through the unit of work.

Split by area; everything a caller needs is importable from here.
"""

from services.identity.service.brand_assets import (
    AssetBytes,
    read_brand_asset,
    upload_brand_asset,
)
from services.identity.service.common import ClientInfo, Sessions
from services.identity.service.customer_access import change_customer_access
from services.identity.service.customer_retention import purge_deleted_customers
from services.identity.service.customers import (
    NewContact,
    add_contact,
    create_customer,
    get_customer,
    list_customers,
    remove_contact,
    update_customer,
)
from services.identity.service.hot_reads import (
    TokenOwner,
    authenticate_api_token,
    resolve_session,
)
from services.identity.service.housekeeping import housekeeping
from services.identity.service.link_redemption import (
    LinkInfo,
    inspect_login_token,
    redeem_login_token,
)
from services.identity.service.link_requests import (
    invite_contact,
    on_link_requested,
    request_link,
)
from services.identity.service.onboarding import Onboarded, OnboardingRequest, onboard_tenant
from services.identity.service.sessions import (
    OpenedSession,
    SessionView,
    list_sessions,
    revoke_sessions,
    sign_out,
    start_view_as_client,
    stop_view_as_client,
)
from services.identity.service.sign_in import (
    SignInResult,
    begin_totp_enrollment,
    change_password,
    confirm_totp_enrollment,
    sign_in,
)
from services.identity.service.step_up import request_step_up_code, step_up
from services.identity.service.tenants import (
    BrandingInput,
    create_staff_user,
    create_tenant,
    get_tenant,
    get_tenant_by_slug,
    issue_api_token,
    list_api_tokens,
    list_audit_entries,
    list_staff_users,
    revoke_api_token,
    update_tenant,
)

__all__ = [
    "AssetBytes",
    "BrandingInput",
    "ClientInfo",
    "LinkInfo",
    "NewContact",
    "Onboarded",
    "OnboardingRequest",
    "OpenedSession",
    "SessionView",
    "Sessions",
    "SignInResult",
    "TokenOwner",
    "add_contact",
    "authenticate_api_token",
    "begin_totp_enrollment",
    "change_customer_access",
    "change_password",
    "confirm_totp_enrollment",
    "create_customer",
    "create_staff_user",
    "create_tenant",
    "get_customer",
    "get_tenant",
    "get_tenant_by_slug",
    "housekeeping",
    "inspect_login_token",
    "invite_contact",
    "issue_api_token",
    "list_api_tokens",
    "list_audit_entries",
    "list_customers",
    "list_sessions",
    "list_staff_users",
    "on_link_requested",
    "onboard_tenant",
    "purge_deleted_customers",
    "read_brand_asset",
    "redeem_login_token",
    "remove_contact",
    "request_link",
    "request_step_up_code",
    "resolve_session",
    "revoke_api_token",
    "revoke_sessions",
    "sign_in",
    "sign_out",
    "start_view_as_client",
    "step_up",
    "stop_view_as_client",
    "update_customer",
    "update_tenant",
    "upload_brand_asset",
]

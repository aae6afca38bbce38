"""The front door: splash + sign-in, emailed sign-in links, password reset,
the Continue page for one-time links, and sign-out.

A one-time link is only ever looked at by a GET (mail scanners follow links
before people do); the token is spent by the Continue button's POST.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from portal.identity.v1 import identity_pb2
from starlette.responses import Response

from gateway.api.auth import LinkPurpose, email_link, sign_out_session
from gateway.backends import Backends, RemoteError, gateway_principal
from gateway.deps import BackendsDep, OptionalSessionDep, SettingsDep, TenantDep
from gateway.pages import portal
from gateway.pages.rendering import (
    anonymous_form,
    looks_like_email,
    refusal,
    render,
    see_other,
    signed_in_form,
)
from gateway.sessions import (
    clear_session_cookie,
    client_info,
    end_session_quietly,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)

P = identity_pb2
PURPOSES = {
    P.LOGIN_TOKEN_PURPOSE_MAGIC_LINK: "magic_link",
    P.LOGIN_TOKEN_PURPOSE_INVITE: "invite",
    P.LOGIN_TOKEN_PURPOSE_PASSWORD_RESET: "password_reset",
}
NEEDS_PASSWORD = frozenset({"invite", "password_reset"})
WELCOME = {
    "magic_link": "You're signed in.",
    "invite": "Your password is set. Welcome to your portal.",
    "staff_invite": "Your password is set. Welcome to your console.",
    "password_reset": "Your new password is set, and you're signed in.",
}
LINK_SENT = "If that address has access, a link is on its way. It works once and expires soon."
RESET_SENT = (
    "If that address has an account, a link to choose a new password is on its way. "
    "It works once and expires soon."
)
# Each emailed link's form: its page, and what it says once asked.
LINK_FORMS = {
    "magic_link": ("magic_link.html", LINK_SENT),
    "password_reset": ("forgot.html", RESET_SENT),
}
ENTER_EMAIL = "Enter your email address, like name@example.com."
# A Continue page must not hand its URL (the token) to anyone via Referer.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}
_MAX_TOKEN = 512


def landing_for(session: identity_pb2.Session) -> str:
    staff = session.kind == P.PRINCIPAL_KIND_STAFF and not session.view_as_client
    return "/console" if staff else "/home"


def _welcome_key(purpose: str | None, session: identity_pb2.Session) -> str | None:
    staff = session.kind == P.PRINCIPAL_KIND_STAFF
    return "staff_invite" if purpose == "invite" and staff else purpose


@router.get("/", name="splash")
async def splash(
    request: Request, signed_in: OptionalSessionDep, backends: BackendsDep
) -> Response:
    if signed_in is not None and signed_in.portal is not None:
        return await portal.landing(request, signed_in, backends)  # no redirect chain
    if signed_in is not None:
        return see_other(request, signed_in.landing)
    return render(request, "splash.html", splash_page=True, email="", errors={})


@router.post("/sign-in")
async def sign_in(
    request: Request,
    tenant: TenantDep,
    backends: BackendsDep,
    settings: SettingsDep,
    signed_in: OptionalSessionDep,
) -> Response:
    form = await anonymous_form(request)
    email, password, code = form["email"], form.secret("password"), form["totp_code"]
    code_step = form.has("code_step")
    template = "sign_in_code.html" if code_step else "splash.html"
    page = {"splash_page": not code_step, "email": email, "password": password}
    errors: dict[str, str] = {}
    if not looks_like_email(email):
        errors["email"] = ENTER_EMAIL
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message
    if code_step and not code:
        errors["totp_code"] = "Enter the 6-digit code from your authenticator app."
    if errors:
        return render(request, template, status=422, errors=errors, **page)
    identity = backends.identity
    try:
        answer = await identity.call(
            identity.stub.SignIn,
            P.SignInRequest(
                email=email, password=password, totp_code=code, client=client_info(request)
            ),
            principal=gateway_principal(tenant_id=tenant.id),
        )
    except RemoteError as exc:
        why = refusal(exc)
        return render(
            request,
            template,
            status=why.status,
            headers=why.headers(),
            error=why.message,
            errors=why.fields,
            **page,
        )
    if answer.totp_required:
        return render(request, "sign_in_code.html", errors={}, **page)
    await end_session_quietly(backends, signed_in)
    response = see_other(request, landing_for(answer.session.session))
    set_session_cookie(response, answer.session, settings)
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request, backends: BackendsDep, settings: SettingsDep, signed_in: OptionalSessionDep
) -> Response:
    if signed_in is not None:
        # Signing out is only refused to a forged form; a lapsed session just leaves.
        await signed_in_form(request, signed_in)
        await sign_out_session(backends, signed_in)
    response = see_other(request, "/", flash="You're signed out.", kind="info")
    clear_session_cookie(response, settings)
    return response


# -- one-time links -------------------------------------------------------------


@router.get("/sign-in/link")
async def magic_link_page(request: Request) -> Response:
    return render(request, "magic_link.html", email="", errors={})


async def _email_link_form(
    request: Request, backends: Backends, tenant_id: str, purpose: LinkPurpose
) -> Response:
    """An emailed link's form: the address checked, the link asked for, the
    same page again with the refusal (past the cap: when links will be sent again)."""
    template, sent = LINK_FORMS[purpose]
    form = await anonymous_form(request)
    email = form["email"]
    if not looks_like_email(email):
        return render(request, template, status=422, email=email, errors={"email": ENTER_EMAIL})
    try:
        await email_link(backends, request, tenant_id, email, purpose=purpose)
    except RemoteError as exc:
        why = refusal(exc)
        # Past the hourly cap nothing is wrong with what was typed: say plainly that
        # no link is coming for a while (identity's words, the same for any address).
        capped = why.status == 429
        return render(
            request,
            template,
            status=why.status,
            headers=why.headers(),
            email=email,
            error=None if capped else why.message,
            notice=why.message if capped else None,
            errors=why.fields,
        )
    return see_other(request, request.url.path, flash=sent, kind="info")


@router.post("/sign-in/link")
async def request_magic_link(
    request: Request, tenant: TenantDep, backends: BackendsDep
) -> Response:
    return await _email_link_form(request, backends, tenant.id, "magic_link")


@router.get("/password/forgot")
async def forgot_page(request: Request) -> Response:
    return render(request, "forgot.html", email="", errors={})


@router.post("/password/forgot")
async def request_reset(request: Request, tenant: TenantDep, backends: BackendsDep) -> Response:
    return await _email_link_form(request, backends, tenant.id, "password_reset")


async def _inspect(
    backends: BackendsDep, tenant_id: str, token: str
) -> identity_pb2.InspectLoginTokenResponse | str:
    """What the link is for, or why it cannot be used (the service's words)."""
    if not token or len(token) > _MAX_TOKEN:
        return "This link is incomplete. Open it again from your email, or ask for a new one."
    identity = backends.identity
    try:
        return await identity.call(
            identity.stub.InspectLoginToken,
            P.InspectLoginTokenRequest(token=token),
            principal=gateway_principal(tenant_id=tenant_id),
        )
    except RemoteError as exc:
        return refusal(exc).message


def _link_problem(request: Request, reason: str) -> Response:
    return render(
        request,
        "link_problem.html",
        status=410,
        headers=NO_REFERRER,
        reason=reason,
        errors={},
        email="",
    )


def _continue(
    request: Request,
    token: str,
    info: identity_pb2.InspectLoginTokenResponse,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "continue.html",
        status=status,
        headers=NO_REFERRER,
        token=token,
        info=info,
        purpose=PURPOSES.get(info.purpose, "magic_link"),
        STAFF=P.PRINCIPAL_KIND_STAFF,
        error=error,
        errors=errors or {},
    )


@router.get("/continue")
async def continue_page(
    request: Request, tenant: TenantDep, backends: BackendsDep, token: str = ""
) -> Response:
    info = await _inspect(backends, tenant.id, token)
    if isinstance(info, str):
        return _link_problem(request, info)
    return _continue(request, token, info)


@router.post("/continue")
async def redeem(
    request: Request,
    tenant: TenantDep,
    backends: BackendsDep,
    settings: SettingsDep,
    signed_in: OptionalSessionDep,
) -> Response:
    form = await anonymous_form(request)
    token = form.get("token")
    purpose = form.get("purpose")
    password, confirm = form.secret("new_password"), form.secret("confirm_password")
    if purpose in NEEDS_PASSWORD and password != confirm:
        info = await _inspect(backends, tenant.id, token)
        if isinstance(info, str):
            return _link_problem(request, info)
        return _continue(
            request,
            token,
            info,
            status=422,
            errors={"confirm_password": "The two passwords are not the same."},
        )
    identity = backends.identity
    try:
        answer = await identity.call(
            identity.stub.RedeemLoginToken,
            P.RedeemLoginTokenRequest(
                token=token, new_password=password, client=client_info(request)
            ),
            principal=gateway_principal(tenant_id=tenant.id),
        )
    except RemoteError as exc:
        why = refusal(exc)
        # A link still usable means the password was refused; otherwise the link is spent.
        info = await _inspect(backends, tenant.id, token)
        if isinstance(info, str):
            return _link_problem(request, info)
        return _continue(
            request, token, info, status=why.status, error=why.message, errors=why.fields
        )
    await end_session_quietly(backends, signed_in)
    response = see_other(
        request,
        landing_for(answer.session.session),
        flash=WELCOME.get(_welcome_key(purpose, answer.session.session), WELCOME["magic_link"]),
    )
    set_session_cookie(response, answer.session, settings)
    return response

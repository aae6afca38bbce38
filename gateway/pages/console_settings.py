"""The staff console's settings: branding (with the logo and sign-in image
uploads), API tokens, and TOTP enrolment.

A new token's secret and the TOTP recovery codes are shown once, in the POST's
own answer (never in a redirect, a cookie or a URL)."""

from __future__ import annotations

import json
import uuid
from typing import cast

from fastapi import APIRouter, Request
from portal.identity.v1 import identity_pb2
from starlette.responses import Response

from gateway import csrf
from gateway.api.brand_images import Kind, read_image_form, upload_brand_image
from gateway.api.tenant import change_tenant
from gateway.backends import RemoteError
from gateway.body_limits import BodyTooLarge, discard_rest
from gateway.deps import BackendsDep, StaffPage, TenantCacheDep, TenantDep
from gateway.pages.projects import not_found
from gateway.pages.rendering import Form, refusal, render, see_other, signed_in_form
from gateway.sessions import SignedIn
from gateway.theme import safe_image_url
from services.chassis import money, timefmt

router = APIRouter(include_in_schema=False)
P = identity_pb2

BRANDING_FIELDS = (
    "logo_url",
    "splash_image_url",
    "headline",
    "accent_color",
    "support_email",
    "support_phone",
    "postal_address",
    "website",
)


# -- branding ----------------------------------------------------------------------


def _branding_values(tenant: identity_pb2.Tenant) -> dict[str, str]:
    values = {name: getattr(tenant.branding, name) for name in BRANDING_FIELDS}
    values |= {
        "display_name": tenant.display_name,
        "time_zone": tenant.time_zone,
        "currency": tenant.currency,
    }
    return values


def _shown(form: Form, tenant: identity_pb2.Tenant) -> dict[str, str]:
    """The settings the form was rendered with (its `shown` field), so a field the
    admin left alone is not sent even if someone changed it since; a form
    without it is compared with this gateway's copy of the tenant."""
    current = _branding_values(tenant)
    try:
        shown = json.loads(form["shown"])
    except ValueError:
        return current
    if not isinstance(shown, dict):
        return current
    return {name: str(shown.get(name, value)) for name, value in current.items()}


def _branding_page(
    request: Request,
    signed_in: SignedIn,
    tenant: identity_pb2.Tenant,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    shown: dict[str, str] | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    current = _branding_values(tenant)
    return render(
        request,
        "console/branding.html",
        signed_in=signed_in,
        surface="console",
        status=status,
        values=values or current,
        shown=shown or current,
        error=error,
        errors=errors or {},
        # Pickers, not free text: the zones people live in, the currencies in use.
        zone_groups=timefmt.zone_choices(),
        currencies=money.currency_choices(),
        logo=safe_image_url(tenant.branding.logo_url),
        splash=safe_image_url(tenant.branding.splash_image_url),
    )


@router.get("/console/branding")
async def branding_page(request: Request, signed_in: StaffPage, tenant: TenantDep) -> Response:
    return _branding_page(request, signed_in, tenant)


@router.post("/console/branding")
async def save_branding(
    request: Request,
    signed_in: StaffPage,
    tenant: TenantDep,
    backends: BackendsDep,
    tenants: TenantCacheDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    values = {
        name: form.text(name) if name == "postal_address" else form[name]  # the one textarea
        for name in (*BRANDING_FIELDS, "display_name", "time_zone")
    }
    values["currency"] = form["currency"].upper()
    values["accent_color"] = values["accent_color"].lower()
    # Only what differs from the settings the form showed, as one masked update:
    # another admin's change to a field left alone here is kept.
    shown = _shown(form, tenant)
    changes = {
        (f"branding.{name}" if name in BRANDING_FIELDS else name): value
        for name, value in values.items()
        if value != shown[name]
    }
    try:
        await change_tenant(backends, signed_in.person, tenants, changes)
    except RemoteError as exc:
        why = refusal(exc)
        return _branding_page(
            request,
            signed_in,
            tenant,
            status=why.status,
            values=values,
            shown=shown,
            error=why.message,
            errors=why.fields,
        )
    return see_other(
        request, "/console/branding", flash="Branding saved. Your portal shows it now."
    )


_UPLOADED = {
    "logo": "The logo is uploaded. Your portal and new documents show it now.",
    "splash": "The sign-in image is uploaded. Your sign-in page shows it now.",
}


@router.post("/console/branding/{kind}")
async def upload_image(
    request: Request,
    kind: str,
    signed_in: StaffPage,
    tenant: TenantDep,
    backends: BackendsDep,
    tenants: TenantCacheDep,
) -> Response:
    """A logo or sign-in image from the branding page (multipart, CSRF in the form)."""
    if kind not in ("logo", "splash"):
        raise not_found("page")
    try:
        fields, reader = await read_image_form(request)
        form = Form(fields)  # a NUL in any field is a 422 naming it
        csrf.check_session_token(
            request.app.state.settings.csrf_secret, signed_in.token, form.get(csrf.FORM_FIELD)
        )
        if reader is None:
            await discard_rest(request)
            return see_other(request, "/console/branding", flash="Choose an image.", kind="error")
        await upload_brand_image(backends, signed_in.person, tenants, cast(Kind, kind), reader)
    except BodyTooLarge as exc:  # stopped at the cap: nothing of it was kept
        await discard_rest(request)
        return see_other(request, "/console/branding", flash=exc.error.problem.detail, kind="error")
    except RemoteError as exc:
        await discard_rest(request)
        why = refusal(exc)
        return _branding_page(
            request,
            signed_in,
            tenant,
            status=why.status,
            error=why.message,
            errors={f"{kind}_file": why.message},
        )
    return see_other(request, "/console/branding", flash=_UPLOADED[kind])


# -- API tokens --------------------------------------------------------------------


async def _tokens_page(
    request: Request,
    signed_in: StaffPage,
    backends: BackendsDep,
    *,
    status: int = 200,
    issued: identity_pb2.IssueApiTokenResponse | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListApiTokens, P.ListApiTokensRequest(), principal=signed_in.person
    )
    tokens = sorted(answer.tokens, key=lambda t: (t.HasField("revoked_at"), -t.created_at.seconds))
    return render(
        request,
        "console/tokens.html",
        signed_in=signed_in,
        surface="console",
        status=status,
        tokens=tokens,
        issued=issued,
        request_id=str(uuid.uuid4()),
        error=error,
        errors=errors or {},
    )


@router.get("/console/tokens")
async def tokens_page(request: Request, signed_in: StaffPage, backends: BackendsDep) -> Response:
    return await _tokens_page(request, signed_in, backends)


def _request_id(form: Form) -> str:
    try:
        return str(uuid.UUID(form["request_id"]))
    except ValueError:
        return str(uuid.uuid4())


@router.post("/console/tokens")
async def issue_token(request: Request, signed_in: StaffPage, backends: BackendsDep) -> Response:
    form = await signed_in_form(request, signed_in)
    name = form["name"]
    if not name:
        return await _tokens_page(
            request,
            signed_in,
            backends,
            status=422,
            errors={"name": "Name the token after where it will be used, e.g. 'Zapier'."},
        )
    identity = backends.identity
    try:
        issued = await identity.call(
            identity.stub.IssueApiToken,
            P.IssueApiTokenRequest(
                request_id=_request_id(form), user_id=signed_in.session.subject_id, name=name
            ),
            principal=signed_in.person,
        )
    except RemoteError as exc:
        why = refusal(exc)
        return await _tokens_page(
            request, signed_in, backends, status=why.status, error=why.message, errors=why.fields
        )
    return await _tokens_page(request, signed_in, backends, issued=issued)


@router.post("/console/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, token_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    await signed_in_form(request, signed_in)
    identity = backends.identity
    answer = await identity.call(
        identity.stub.RevokeApiToken,
        P.RevokeApiTokenRequest(token_id=token_id[:100]),
        principal=signed_in.person,
    )
    return see_other(
        request, "/console/tokens", flash=f"The token '{answer.token.name}' is revoked."
    )


# -- TOTP ------------------------------------------------------------------------------


@router.get("/console/security")
async def security_page(request: Request, signed_in: StaffPage) -> Response:
    return render(
        request, "console/security.html", signed_in=signed_in, surface="console", errors={}
    )


@router.post("/console/security/totp")
async def begin_totp(request: Request, signed_in: StaffPage, backends: BackendsDep) -> Response:
    await signed_in_form(request, signed_in)
    identity = backends.identity
    begun = await identity.call(
        identity.stub.BeginTotpEnrollment,
        P.BeginTotpEnrollmentRequest(),
        principal=signed_in.person,
    )
    return render(
        request,
        "console/security.html",
        signed_in=signed_in,
        surface="console",
        secret=begun.secret,
        otpauth_uri=begun.otpauth_uri,
        errors={},
    )


@router.post("/console/security/totp/confirm")
async def confirm_totp(request: Request, signed_in: StaffPage, backends: BackendsDep) -> Response:
    form = await signed_in_form(request, signed_in)
    shown = {"secret": form["secret"], "otpauth_uri": form["otpauth_uri"]}
    identity = backends.identity
    try:
        confirmed = await identity.call(
            identity.stub.ConfirmTotpEnrollment,
            P.ConfirmTotpEnrollmentRequest(code=form["code"].replace(" ", "")),
            principal=signed_in.person,
        )
    except RemoteError as exc:
        why = refusal(exc)
        return render(
            request,
            "console/security.html",
            signed_in=signed_in,
            surface="console",
            status=why.status,
            error=why.message,
            errors=why.fields or {"code": why.message},
            **shown,
        )
    return render(
        request,
        "console/security.html",
        signed_in=signed_in,
        surface="console",
        recovery_codes=list(confirmed.recovery_codes),
        errors={},
    )

"""What every page shares: the base context (tenant, branding, theme, flash,
CSRF token), flash messages and the page-side answers to errors. The
templates' filters live in `formatting`, form reading in `forms`.

Pages are post/redirect/get: a form's POST answers 303 to a page, carrying a
one-line message in a short-lived signed cookie (the flash). The exceptions are
secrets shown once (a new API token, TOTP recovery codes), which are rendered
in the POST's own answer and never put in a cookie or a URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from portal.identity.v1 import identity_pb2
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway import csrf
from gateway.pages.formatting import build_templates, describe_device
from gateway.pages.forms import (
    Form,
    Refusal,
    anonymous_form,
    looks_like_email,
    read_form,
    refusal,
    signed_in_form,
)
from gateway.problems import ProblemError
from gateway.sessions import (
    SignedIn,
    clear_session_cookie,
    resolve_session,
    session_cookie_value,
)
from gateway.settings import GatewaySettings
from gateway.theme import safe_image_url, theme_version
from services.chassis.telemetry import get_logger

# The page modules import these from here, one place for what every page uses.
__all__ = [
    "Flash",
    "Form",
    "PageRedirect",
    "Refusal",
    "anonymous_form",
    "build_templates",
    "decode_flash",
    "describe_device",
    "encode_flash",
    "looks_like_email",
    "on_csrf_refused",
    "on_page_redirect",
    "read_form",
    "refusal",
    "render",
    "render_problem",
    "see_other",
    "signed_in_form",
]

log = get_logger(__name__)
FLASH_MAX_AGE = 120
FlashKind = Literal["success", "info", "error"]


# -- flash --------------------------------------------------------------------


@dataclass(frozen=True)
class Flash:
    message: str
    kind: FlashKind = "success"


def _flash_cookie(settings: GatewaySettings) -> str:
    return "__Host-portal_flash" if settings.cookie_secure else "portal_flash"


def _flash_mac(settings: GatewaySettings, payload: bytes) -> str:
    key = hmac.new(settings.csrf_secret, b"flash", hashlib.sha256).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def encode_flash(settings: GatewaySettings, flash: Flash, *, now: float | None = None) -> str:
    body = {"m": flash.message[:300], "k": flash.kind, "t": int(now or time.time())}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
    return f"{payload.decode()}.{_flash_mac(settings, payload)}"


def decode_flash(
    settings: GatewaySettings, value: str | None, *, now: float | None = None
) -> Flash | None:
    if not value or len(value) > 2000 or "." not in value:
        return None
    payload, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(mac.encode(), _flash_mac(settings, payload.encode()).encode()):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if (now or time.time()) - int(body["t"]) > FLASH_MAX_AGE:
            return None
        kind = body["k"] if body["k"] in ("success", "info", "error") else "info"
        return Flash(str(body["m"]), kind)
    except (ValueError, KeyError, TypeError):
        return None


def see_other(
    request: Request, url: str, *, flash: str | None = None, kind: FlashKind = "success"
) -> RedirectResponse:
    """Post/redirect/get, with an optional one-line message for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        settings: GatewaySettings = request.app.state.settings
        response.set_cookie(
            _flash_cookie(settings),
            encode_flash(settings, Flash(flash, kind)),
            max_age=FLASH_MAX_AGE,
            path="/",
            secure=settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )
    return response


# -- rendering ----------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str | None  # None: a surface not built yet; not shown


CLIENT_NAV = (
    NavItem("Projects", "/projects"),
    NavItem("Invoices", "/invoices"),
    NavItem("Visits", "/visits"),
    NavItem("Documents", "/documents"),
    NavItem("Account", "/account"),
)
STAFF_NAV = (
    NavItem("Customers", "/console"),
    NavItem("Projects", "/console/projects"),
    NavItem("Dispatch", "/console/dispatch"),
    NavItem("Branding", "/console/branding"),
    NavItem("Payments", "/console/payments"),
    NavItem("Accounting", "/console/accounting"),
    NavItem("API tokens", "/console/tokens"),
    NavItem("Security", "/console/security"),
    NavItem("Account", "/account"),
)


Surface = Literal["portal", "console"]


def _surface(signed_in: SignedIn | None, surface: Surface | None) -> Surface | None:
    if signed_in is None:
        return None
    if surface is not None:
        return surface
    return "portal" if signed_in.portal is not None else "console"


def _nav(surface: Surface | None) -> list[NavItem]:
    items = {"portal": CLIENT_NAV, "console": STAFF_NAV}.get(surface or "", ())
    return [item for item in items if item.href]


def render(
    request: Request,
    template: str,
    *,
    signed_in: SignedIn | None = None,
    surface: Surface | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in the tenant's layout. Signed-in pages carry the session's CSRF
    token; anonymous ones the double-submit token (set as a cookie if new)."""
    settings: GatewaySettings = request.app.state.settings
    tenant = request.state.tenant
    new_anonymous = None
    if signed_in is not None:
        csrf_token = signed_in.csrf_token
    else:
        csrf_token = request.cookies.get(settings.csrf_cookie)
        if not csrf.usable_anonymous_token(csrf_token):
            csrf_token = new_anonymous = csrf.new_anonymous_token()
    flash_value = request.cookies.get(_flash_cookie(settings))
    branding = tenant.branding
    base = {
        "tenant": tenant,
        "branding": branding,
        "logo_url": safe_image_url(branding.logo_url),
        "splash_url": safe_image_url(branding.splash_image_url),
        "theme_version": theme_version(tenant),
        "static_version": request.app.state.static_version,
        "signed_in": signed_in,
        "me": signed_in.session if signed_in else None,
        "surface": _surface(signed_in, surface),
        "nav": _nav(_surface(signed_in, surface)),
        "path": request.url.path,
        "csrf_token": csrf_token,
        "flash": decode_flash(settings, flash_value),
        "dev_mail_url": settings.dev_mail_url if settings.is_dev else None,
        "tz": tenant.time_zone,
        "ARCHIVED": identity_pb2.ACCESS_STATE_ARCHIVED,
    }
    response = request.app.state.templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status, headers=headers
    )
    if new_anonymous:
        csrf.set_anonymous_cookie(
            response, name=settings.csrf_cookie, value=new_anonymous, secure=settings.cookie_secure
        )
    if flash_value:
        response.delete_cookie(_flash_cookie(settings), path="/", secure=settings.cookie_secure)
    return response


# -- errors on pages -----------------------------------------------------------


class PageRedirect(Exception):
    """Raised by a page dependency: send the browser elsewhere (303)."""

    def __init__(
        self,
        url: str,
        *,
        flash: str | None = None,
        kind: FlashKind = "info",
        sign_out: bool = False,
    ) -> None:
        super().__init__(url)
        self.url, self.flash, self.kind, self.sign_out = url, flash, kind, sign_out


def on_page_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRedirect)
    response = see_other(request, exc.url, flash=exc.flash, kind=exc.kind)
    if exc.sign_out:
        clear_session_cookie(response, request.app.state.settings)
    return response


def on_csrf_refused(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        status=403,
        title="This form has expired",
        detail="For your security, forms stop working after a while or after you sign in "
        "or out. Go back, reload the page and try again.",
    )


async def render_problem(request: Request, error: ProblemError) -> Response:
    """A problem on a tenant's page: in the portal's layout, with the signed-in
    person's own navigation (a client's for a client, the console's for staff)
    and a way back to their start; a visitor gets a link to the sign-in page. A
    lapsed session goes back to the sign-in page instead."""
    problem = error.problem
    settings: GatewaySettings = request.app.state.settings
    if problem.status == 401:
        response = see_other(
            request, "/", flash="Your session has ended. Please sign in again.", kind="info"
        )
        if session_cookie_value(request, settings):
            clear_session_cookie(response, settings)
        return response
    signed_in = await _signed_in_for_error(request, problem.status)
    staff_side = signed_in is not None and signed_in.is_staff
    console = staff_side and request.url.path.startswith(("/console", "/account"))
    return render(
        request,
        "error.html",
        signed_in=signed_in,
        surface="console" if console else None,
        status=problem.status,
        headers=error.headers,
        title=problem.title,
        detail=problem.detail,
        home=_way_home(signed_in, console=console),
    )


async def _signed_in_for_error(request: Request, status: int) -> SignedIn | None:
    """Who is looking at the error, if that is cheap and safe to learn: the
    session the request already resolved (resolve_session remembers it), else
    one ResolveSession; but not after a service was down or slow (503, 504),
    when asking would only wait again."""
    if status in (503, 504) and not hasattr(request.state, "signed_in"):
        return None
    try:
        return await resolve_session(
            request,
            request.state.tenant,
            request.state.backends,
            request.app.state.settings,
        )
    except Exception:  # an error page never fails for want of a name in its header
        log.warning("error page without the session", exc_info=True)
        return None


def _way_home(signed_in: SignedIn | None, *, console: bool) -> tuple[str, str]:
    """(address, label) of the error page's button."""
    if signed_in is None:
        return "/", "Go to the sign-in page"
    if console or (signed_in.is_staff and not signed_in.viewing_as_client):
        return "/console", "Go to the console"
    return "/home", "Go to your portal"

"""What every page shares: the Jinja2 environment, the base context (tenant,
branding, theme, flash, CSRF token), flash messages, form reading and the
page-side answers to errors.

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
import re
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.templating import Jinja2Templates
from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import identity_pb2
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway import csrf
from gateway.api.proposals import status_name
from gateway.backends import RemoteError
from gateway.money import format_money, format_percent_bps
from gateway.pages.project_views import human_date, stage_label
from gateway.problems import ProblemError, http_for
from gateway.sessions import SignedIn, clear_session_cookie, session_cookie_value
from gateway.settings import GatewaySettings
from gateway.theme import safe_image_url, theme_version
from services.chassis.grpc_client import error_detail

ROLE_LABELS = {
    "approver": "Approver: may approve changes, pay and book",
    "viewer": "Viewer: can look, not act",
    "project_manager": "Project manager",
}
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
FLASH_MAX_AGE = 120
FlashKind = Literal["success", "info", "error"]
_MAX_FIELD = 4000


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))  # autoescapes .html
    env = templates.env
    env.filters["when"] = format_when
    env.filters["device"] = describe_device
    env.globals["access_state_name"] = access_state_name
    env.globals["contact_role_name"] = contact_role_name
    env.globals["role_labels"] = ROLE_LABELS
    env.filters["money"] = format_money
    env.filters["day"] = human_date
    env.filters["percent"] = lambda bps: format_percent_bps(bps) + "%"
    env.globals["stage_label"] = stage_label
    env.globals["proposal_status"] = status_name
    return templates


# -- formatting ---------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_when(ts: Timestamp | None, time_zone: str = "UTC") -> str:
    """A protobuf timestamp in the tenant's time zone, e.g. '25 Nov 2025, 13:05 EST'."""
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return "—"
    local = ts.ToDatetime(tzinfo=UTC).astimezone(_zone(time_zone))
    return f"{local.day} {local:%b %Y, %H:%M %Z}"


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """'Chrome on macOS' from a user agent; the raw string says too much and too little."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60]


def access_state_name(value: int) -> str:
    return identity_pb2.AccessState.Name(value).removeprefix("ACCESS_STATE_").lower()


def contact_role_name(value: int) -> str:
    return identity_pb2.ContactRole.Name(value).removeprefix("CONTACT_ROLE_").lower()


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
    NavItem("Change orders", None),
    NavItem("Invoices", None),
    NavItem("Visits", None),
    NavItem("Documents", "/documents"),
    NavItem("Account", "/account"),
)
STAFF_NAV = (
    NavItem("Customers", "/console"),
    NavItem("Projects", "/console/projects"),
    NavItem("Branding", "/console/branding"),
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


# -- forms --------------------------------------------------------------------


class Form:
    """A submitted form's text fields, stripped and bounded."""

    def __init__(self, data: FormData) -> None:
        self._data = data

    def __getitem__(self, name: str) -> str:
        return self.get(name)

    def get(self, name: str, *, strip: bool = True) -> str:
        value = self._data.get(name)
        if not isinstance(value, str):
            return ""
        value = value[:_MAX_FIELD]
        return value.strip() if strip else value

    def secret(self, name: str) -> str:
        """Passwords and codes: kept as typed."""
        return self.get(name, strip=False)

    def has(self, name: str) -> bool:
        return name in self._data

    def getlist(self, name: str) -> list[str]:
        """Every value of a repeated field (ticked checkboxes), stripped and bounded."""
        return [v[:_MAX_FIELD].strip() for v in self._data.getlist(name) if isinstance(v, str)]


async def read_form(request: Request) -> Form:
    return Form(await request.form(max_files=0, max_fields=50))


async def signed_in_form(request: Request, signed_in: SignedIn) -> Form:
    """The form of a signed-in page, its CSRF token checked."""
    form = await read_form(request)
    settings: GatewaySettings = request.app.state.settings
    csrf.check_session_token(settings.csrf_secret, signed_in.token, form.get(csrf.FORM_FIELD))
    return form


async def anonymous_form(request: Request) -> Form:
    """The form of a page shown before sign-in: double-submit cookie checked."""
    form = await read_form(request)
    settings: GatewaySettings = request.app.state.settings
    csrf.check_double_submit(request.cookies.get(settings.csrf_cookie), form.get(csrf.FORM_FIELD))
    return form


@dataclass(frozen=True)
class Refusal:
    """A service's refusal, for showing next to a form: its sentence, and per field."""

    status: int
    message: str
    fields: dict[str, str]
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def refusal(exc: RemoteError) -> Refusal:
    """The person's mistake (a 4xx, as gateway/problems.py maps it) as a
    Refusal; anything else is re-raised for the error page."""
    mapped = http_for(exc.error)
    if mapped is None or mapped[0] >= 500:
        raise exc
    status = mapped[0]
    info = error_detail(exc.error)
    fields = {v.field: v.description for v in info.field_violations if v.field}
    retry = max(1, info.retry_after_seconds) if status == 429 else None
    return Refusal(status, _sentence(info.message or "That did not work."), fields, retry)


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def looks_like_email(value: str) -> bool:
    """Only to catch typos before a round trip; identity decides."""
    return len(value) <= 320 and bool(_EMAIL.match(value))


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


def render_problem(request: Request, error: ProblemError) -> Response:
    """A problem on a tenant's page: in the portal's layout. A lapsed session
    goes back to the sign-in page instead."""
    problem = error.problem
    settings: GatewaySettings = request.app.state.settings
    if problem.status == 401:
        response = see_other(
            request, "/", flash="Your session has ended. Please sign in again.", kind="info"
        )
        if session_cookie_value(request, settings):
            clear_session_cookie(response, settings)
        return response
    return render(
        request,
        "error.html",
        status=problem.status,
        headers=error.headers,
        title=problem.title,
        detail=problem.detail,
    )

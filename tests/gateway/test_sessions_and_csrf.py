"""Sessions, cookies, CSRF and the principals sent on a person's behalf."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from fastapi import FastAPI
from portal.identity.v1 import identity_pb2
from starlette.requests import Request
from starlette.responses import Response

from gateway import csrf
from gateway.app import create_app
from gateway.auth import _checked
from gateway.problems import ProblemError
from gateway.sessions import (
    SignedIn,
    clear_session_cookie,
    person_principal,
    portal_principal,
    role_names,
    set_session_cookie,
)
from gateway.settings import GatewaySettings
from tests.gateway.conftest import acme, client_with_tenant

TENANT = "5f0c5e0e-1c52-4b7e-9c55-8c1d2f0b7e11"
P = identity_pb2


def staff_session(**extra: object) -> identity_pb2.Session:
    fields: dict = {
        "id": "s-1",
        "kind": P.PRINCIPAL_KIND_STAFF,
        "subject_id": "staff-1",
        "email": "olivia@acme.example",
        "roles": ["owner", "project_manager"],
    }
    return P.Session(**(fields | extra))


def client_session(**extra: object) -> identity_pb2.Session:
    fields: dict = {
        "id": "s-2",
        "kind": P.PRINCIPAL_KIND_CLIENT,
        "subject_id": "contact-1",
        "customer_id": "customer-1",
        "roles": ["approver"],
    }
    return P.Session(**(fields | extra))


def set_cookie_headers(response: Response) -> list[str]:
    return [v.decode() for k, v in response.raw_headers if k == b"set-cookie"]


# -- principals -------------------------------------------------------------------


def test_a_staff_session_becomes_a_staff_principal_with_its_roles() -> None:
    p = person_principal(staff_session(), tenant_id=TENANT)
    assert (p.kind, p.subject, p.tenant_id, p.session_id) == ("staff", "staff-1", TENANT, "s-1")
    assert p.roles == {"owner", "project_manager"}
    assert not p.read_only and p.customer_id is None
    assert portal_principal(staff_session(), tenant_id=TENANT) is None


def test_a_contact_session_becomes_a_client_principal_of_their_customer() -> None:
    p = person_principal(client_session(read_only=True), tenant_id=TENANT)
    assert (p.kind, p.subject, p.customer_id, p.session_id) == (
        "client",
        "contact-1",
        "customer-1",
        "s-2",
    )
    assert p.roles == {"approver"} and p.read_only  # archived customer
    assert portal_principal(client_session(), tenant_id=TENANT) == person_principal(
        client_session(), tenant_id=TENANT
    )


def test_staff_viewing_as_a_client_act_as_a_read_only_viewer_on_client_pages() -> None:
    session = staff_session(view_as_client=True, customer_id="customer-9", read_only=True)
    portal = portal_principal(session, tenant_id=TENANT)
    assert portal is not None
    assert (portal.kind, portal.subject, portal.customer_id) == ("client", "staff-1", "customer-9")
    assert portal.roles == {"viewer"} and portal.read_only and portal.session_id == "s-1"
    # ...while the console and their own account keep the staff principal.
    assert person_principal(session, tenant_id=TENANT).kind == "staff"


def test_a_contact_role_identity_does_not_name_is_treated_as_viewer() -> None:
    p = person_principal(client_session(roles=["superuser"]), tenant_id=TENANT)
    assert p.roles == {"viewer"}


def test_role_names_accept_enum_spellings() -> None:
    assert role_names(["STAFF_ROLE_PROJECT_MANAGER", "Owner", "", "CONTACT_ROLE_VIEWER"]) == {
        "project_manager",
        "owner",
        "viewer",
    }


# -- cookies ----------------------------------------------------------------------


def new_session() -> identity_pb2.NewSession:
    session = staff_session()
    session.expires_at.GetCurrentTime()
    session.expires_at.seconds += 3600
    return P.NewSession(token="secret-token", session=session)


def test_in_dev_the_session_cookie_is_host_only_httponly_lax_and_not_secure(
    settings: GatewaySettings,
) -> None:
    response = Response()
    set_session_cookie(response, new_session(), settings)
    (cookie,) = set_cookie_headers(response)
    assert cookie.startswith("portal_session=secret-token;")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    assert "domain" not in attributes and "secure" not in attributes
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert 3500 < max_age <= 3600


def test_in_prod_the_session_cookie_is_a_secure_host_prefixed_cookie(
    settings: GatewaySettings,
) -> None:
    prod = settings.model_copy(update={"environment": "prod", "csrf_key": "k" * 40})
    response = Response()
    set_session_cookie(response, new_session(), prod)
    (cookie,) = set_cookie_headers(response)
    assert cookie.startswith("__Host-portal_session=secret-token;")
    assert "secure" in cookie.lower() and "domain" not in cookie.lower()


def test_clearing_the_cookie_expires_it_with_the_same_attributes(
    settings: GatewaySettings,
) -> None:
    response = Response()
    clear_session_cookie(response, settings)
    (cookie,) = set_cookie_headers(response)
    assert cookie.startswith('portal_session="";') and "Max-Age=0" in cookie
    assert "Path=/" in cookie and "HttpOnly" in cookie


# -- CSRF -------------------------------------------------------------------------


def test_the_csrf_token_is_the_hmac_of_the_session_token(settings: GatewaySettings) -> None:
    token = csrf.session_token(settings.csrf_secret, "session-a")
    assert token == hmac.new(settings.csrf_secret, b"session-a", hashlib.sha256).hexdigest()
    assert token != csrf.session_token(settings.csrf_secret, "session-b")
    csrf.check_session_token(settings.csrf_secret, "session-a", token)
    # One character changed (whatever the last one happens to be).
    tampered = token[:-1] + ("1" if token[-1] == "0" else "0")
    for wrong in (None, "", tampered, csrf.session_token(b"other key", "session-a")):
        with pytest.raises(csrf.CsrfRefused):
            csrf.check_session_token(settings.csrf_secret, "session-a", wrong)


def test_double_submit_needs_the_cookie_and_the_field_to_match() -> None:
    value = csrf.new_anonymous_token()
    csrf.check_double_submit(value, value)
    for cookie, field in ((None, value), (value, None), ("", ""), (value, value + "x")):
        with pytest.raises(csrf.CsrfRefused):
            csrf.check_double_submit(cookie, field)


def api_request(method: str, headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": method, "headers": raw, "path": "/api/v1/x"})


def test_cookie_authenticated_api_calls_that_change_things_need_the_csrf_header(
    settings: GatewaySettings,
) -> None:
    signed_in = SignedIn(
        session=staff_session(),
        token="tok",
        tenant_id=TENANT,
        csrf_token=csrf.session_token(settings.csrf_secret, "tok"),
    )
    assert _checked(api_request("GET", {}), signed_in, settings) is signed_in
    good = {csrf.HEADER: signed_in.csrf_token}
    for method in ("POST", "PATCH", "DELETE"):
        assert _checked(api_request(method, good), signed_in, settings) is signed_in
        with pytest.raises(ProblemError) as refused:
            _checked(api_request(method, {csrf.HEADER: "nope"}), signed_in, settings)
        assert refused.value.problem.status == 403
        with pytest.raises(ProblemError):
            _checked(api_request(method, {}), signed_in, settings)


# -- through the app ----------------------------------------------------------------


def app_for(settings: GatewaySettings) -> FastAPI:
    return create_app(settings)


async def test_an_anonymous_form_sets_a_strict_csrf_cookie_that_the_form_repeats(
    settings: GatewaySettings,
) -> None:
    async with client_with_tenant(app_for(settings), acme()) as client:
        page = await client.get("/")
        again = await client.get("/sign-in/link")
    assert page.status_code == 200
    (cookie,) = [c for c in page.headers.get_list("set-cookie") if c.startswith("portal_csrf=")]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert f'name="csrf_token" value="{value}"' in page.text
    # The same browser keeps its token: no new cookie, the same value in the form.
    assert "portal_csrf=" not in ";".join(again.headers.get_list("set-cookie"))
    assert f'value="{value}"' in again.text


async def test_a_sign_in_post_without_a_matching_csrf_token_is_refused_with_a_page(
    settings: GatewaySettings,
) -> None:
    async with client_with_tenant(app_for(settings), acme()) as client:
        await client.get("/")  # the browser now holds portal_csrf
        missing = await client.post("/sign-in", data={"email": "a@b.c", "password": "x"})
        forged = await client.post(
            "/sign-in", data={"email": "a@b.c", "password": "x", "csrf_token": "forged" * 5}
        )
    for r in (missing, forged):
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("text/html")
        assert "This form has expired" in r.text


async def test_with_a_matching_token_the_sign_in_reaches_identity(
    settings: GatewaySettings,
) -> None:
    # Identity is down in these tests: a 503 proves the CSRF check let it through.
    async with client_with_tenant(app_for(settings), acme()) as client:
        await client.get("/")
        token = client.cookies["portal_csrf"]
        r = await client.post(
            "/sign-in",
            data={"email": "jane@example.com", "password": "pw", "csrf_token": token},
        )
    assert r.status_code == 503


async def test_a_form_with_a_mistyped_address_is_answered_next_to_the_field(
    settings: GatewaySettings,
) -> None:
    async with client_with_tenant(app_for(settings), acme()) as client:
        await client.get("/")
        token = client.cookies["portal_csrf"]
        r = await client.post(
            "/sign-in/link", data={"email": "not an address", "csrf_token": token}
        )
    assert r.status_code == 422
    assert 'id="f-email-error"' in r.text and 'aria-invalid="true"' in r.text
    assert 'aria-describedby="f-email-error"' in r.text


async def test_signed_in_pages_send_a_visitor_without_a_session_to_sign_in(
    settings: GatewaySettings,
) -> None:
    async with client_with_tenant(app_for(settings), acme()) as client:
        for path in ("/home", "/account", "/console", "/console/branding"):
            r = await client.get(path)
            assert (r.status_code, r.headers["location"]) == (303, "/"), path


async def test_the_api_without_a_session_or_token_answers_401(
    settings: GatewaySettings,
) -> None:
    async with client_with_tenant(app_for(settings), acme()) as client:
        me = await client.get("/api/v1/me")
        sessions = await client.get("/api/v1/me/sessions")
        customers = await client.get("/api/v1/customers")
    for r in (me, sessions, customers):
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["cache-control"] == "no-store"


async def test_an_api_body_must_say_it_is_json(settings: GatewaySettings) -> None:
    # A cross-site page can POST a body with no Content-Type without a preflight.
    body = b'{"email": "jane@example.com", "password": "pw"}'
    async with client_with_tenant(app_for(settings), acme()) as client:
        bare = await client.post("/api/v1/auth/sign-in", content=body)
        text = await client.post(
            "/api/v1/auth/sign-in", content=body, headers={"Content-Type": "text/plain"}
        )
        json_ = await client.post(
            "/api/v1/auth/sign-in", content=body, headers={"Content-Type": "application/json"}
        )
    assert bare.status_code == 415 and text.status_code == 415
    assert json_.status_code == 503  # reached identity, which is down here

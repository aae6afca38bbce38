"""The front door through the gateway, every process separate (real PostgreSQL,
NATS, the SMTP sink): invites, magic links and resets by email, sign-in with
password and TOTP, throttling, sessions, cross-tenant cookie replay, CSRF,
customer access (archive -> read-only, delete -> restore) and its emails,
view-as-client and branding.

Budgets: every request here comes from 127.0.0.1, and identity throttles per
client address too (30 failed sign-ins per 15 min, 20 link requests an hour),
so these tests fail few sign-ins and ask for few links.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import json
import re
import struct
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
LINK = re.compile(r"http://([a-z0-9-]+)\.localhost:(\d+)/continue\?token=([A-Za-z0-9_\-.~%]+)")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SHOWN_FIELD = re.compile(r"name=\"shown\" value='([^']*)'")
PASSWORD = "correct horse battery staple 42"


# -- a browser, and the mailbox ---------------------------------------------------


class Browser:
    """One browser on one tenant's host: its own cookie jar, no redirects followed."""

    def __init__(self, running: Running, host: str | None = None) -> None:
        self.host = host or running.host
        self.client = httpx.AsyncClient(
            base_url=running.suite.gateway_url,
            headers={"Host": self.host},
            timeout=15,
            trust_env=False,
        )

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    @property
    def session_cookie(self) -> str | None:
        return self.client.cookies.get("portal_session")

    async def get(self, path: str, **kw) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def submit(self, page: str, action: str, fields: dict[str, str]) -> httpx.Response:
        """Open `page`, then post its form to `action` with its CSRF token."""
        shown = await self.get(page)
        match = CSRF_FIELD.search(shown.text)
        assert match, f"no CSRF field on {page}: {shown.status_code}"
        return await self.client.post(action, data={**fields, "csrf_token": match.group(1)})

    async def post_blocking(self, path: str, **kw) -> httpx.Response:
        """POST with this browser's cookies from a blocking client. For a post the
        gateway refuses before reading its body (no CSRF token, over a limit): it
        answers and closes, and an asyncio client still writing loses the answer."""

        def send() -> httpx.Response:
            with httpx.Client(
                base_url=self.client.base_url,
                headers=self.client.headers,
                cookies=self.client.cookies,
                timeout=60,
                trust_env=False,
            ) as blocking:
                return blocking.post(path, **kw)

        return await asyncio.to_thread(send)

    async def csrf(self) -> str:
        me = await self.get("/api/v1/me")
        assert me.status_code == 200, me.text
        return me.json()["csrf_token"]

    async def api(self, method: str, path: str, json: dict | None = None) -> httpx.Response:
        """A cookie-authenticated API call with the CSRF header."""
        return await self.client.request(
            method, path, json=json, headers={"X-CSRF-Token": await self.csrf()}
        )

    async def follow(self, link: str, *, password: str | None = None) -> httpx.Response:
        """Open an emailed link, then press Continue (setting a password if asked)."""
        parts = urlsplit(link)
        token = parse_qs(parts.query)["token"][0]
        shown = await self.get(f"/continue?token={token}")
        assert shown.status_code == 200, shown.text
        fields = {"token": token, "purpose": _purpose(shown.text)}
        if password is not None:
            fields |= {"new_password": password, "confirm_password": password}
        match = CSRF_FIELD.search(shown.text)
        assert match
        return await self.client.post("/continue", data={**fields, "csrf_token": match.group(1)})


def _purpose(html: str) -> str:
    match = re.search(r'name="purpose" value="([a-z_]+)"', html)
    assert match, "the Continue page names the link's purpose"
    return match.group(1)


def alert(html: str) -> str | None:
    """The page's error message, for assertion messages."""
    match = re.search(r'role="alert"><p>([^<]+)', html)
    return match.group(1) if match else None


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def newest_mail_id(mail: httpx.AsyncClient) -> int:
    messages = (await mail.get("/messages")).json()
    return max((m["id"] for m in messages), default=0)


async def mails_to(mail: httpx.AsyncClient, email: str, *, after: int) -> list[dict]:
    messages = (await mail.get("/messages", params={"to": email})).json()
    return [m for m in messages if m["id"] > after]


async def link_for(mail: httpx.AsyncClient, email: str, *, after: int) -> str:
    """The one-time link in the first email to `email` after message `after`."""

    async def found() -> str | None:
        for message in await mails_to(mail, email, after=after):
            match = LINK.search(message["text"] or "") or LINK.search(message["html"] or "")
            if match:
                return match.group(0)
        return None

    return await wait_for(found)


# -- people -----------------------------------------------------------------------


async def new_customer(
    running: Running, gw: httpx.AsyncClient, *roles: str
) -> tuple[str, list[dict]]:
    """A customer with one contact per role; (customer id, contacts)."""
    tag = uuid.uuid4().hex[:8]
    r = await gw.post(
        "/api/v1/customers",
        headers=running.headers(),
        json={
            "name": f"The {tag.title()} Residence",
            "contacts": [
                {
                    "email": f"{role}-{tag}@example.com",
                    "full_name": f"Pat {role.title()} {tag}",
                    "role": role,
                }
                for role in roles or ("approver",)
            ],
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/customers/{r.json()['id']}"
    body = r.json()
    return body["id"], body["contacts"]


async def invite(running: Running, gw: httpx.AsyncClient, customer_id: str, contact_id: str):
    r = await gw.post(
        f"/api/v1/customers/{customer_id}/contacts/{contact_id}/invite", headers=running.headers()
    )
    assert r.status_code == 202, r.text
    return r.json()


async def signed_in_contact(
    running: Running, gw: httpx.AsyncClient, mail: httpx.AsyncClient, role: str = "approver"
) -> tuple[Browser, str, dict]:
    """A contact who accepted their invite: (their browser, customer id, contact)."""
    customer_id, (contact,) = await new_customer(running, gw, role)
    before = await newest_mail_id(mail)
    await invite(running, gw, customer_id, contact["id"])
    link = await link_for(mail, contact["email"], after=before)
    browser = Browser(running)
    done = await browser.follow(link, password=PASSWORD)
    assert (done.status_code, done.headers["location"]) == (303, "/home"), done.text
    return browser, customer_id, contact


async def staff_password(running: Running, mail: httpx.AsyncClient) -> str:
    """The demo owner's password: the seed's, or one set through a reset link."""
    if running.info.get("staff_password"):
        return running.info["staff_password"]
    email = running.info["staff_email"]
    async with Browser(running) as browser:
        before = await newest_mail_id(mail)
        r = await browser.client.post("/api/v1/auth/password-reset", json={"email": email})
        assert r.status_code == 202, r.text
        link = await link_for(mail, email, after=before)
        redeemed = await browser.client.post(
            f"/api/v1/auth/tokens/{token_of(link)}/redeem", json={"new_password": PASSWORD}
        )
        assert redeemed.status_code == 200, redeemed.text
    running.info["staff_password"] = PASSWORD
    return PASSWORD


async def staff_browser(running: Running, mail: httpx.AsyncClient) -> Browser:
    browser = Browser(running)
    r = await browser.submit(
        "/",
        "/sign-in",
        {"email": running.info["staff_email"], "password": await staff_password(running, mail)},
    )
    assert (r.status_code, r.headers.get("location")) == (303, "/console"), r.text
    return browser


async def identity_call(running: Running, method: str, request, principal: Principal):
    call = Caller(PrincipalSigner(running.suite.private_key))
    async with open_channel(running.suite.target("identity")) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        return await call(getattr(stub, method), request, principal)


def totp(secret: str, *, at: float | None = None) -> str:
    """RFC 6238: what an authenticator app shows (SHA-1, 30 s, 6 digits)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


# -- invites and one-time links -------------------------------------------------------


async def test_an_invite_link_is_only_spent_by_the_continue_button(running, gw, mail):
    customer_id, (contact,) = await new_customer(running, gw, "approver")
    before = await newest_mail_id(mail)
    invited = await invite(running, gw, customer_id, contact["id"])
    assert invited["expires_at"]
    link = await link_for(mail, contact["email"], after=before)
    host, port, _ = LINK.search(link).groups()  # type: ignore[union-attr]
    assert (f"{host}.localhost", port) == (running.host, running.info["demo_host"].split(":")[1])

    async with Browser(running) as scanner, Browser(running) as person:
        # A mail scanner opens the link first, twice: nothing is spent.
        for _ in range(2):
            seen = await scanner.get(f"/continue?token={token_of(link)}")
            assert seen.status_code == 200 and "Set your password" in seen.text
            assert seen.headers["referrer-policy"] == "no-referrer"
            assert scanner.session_cookie is None
        info = await scanner.get(f"/api/v1/auth/tokens/{token_of(link)}")
        assert info.json()["purpose"] == "invite" and info.json()["needs_password"]

        mismatch = await person.submit(
            f"/continue?token={token_of(link)}",
            "/continue",
            {
                "token": token_of(link),
                "purpose": "invite",
                "new_password": PASSWORD,
                "confirm_password": PASSWORD + "!",
            },
        )
        assert mismatch.status_code == 422 and "not the same" in mismatch.text

        done = await person.follow(link, password=PASSWORD)
        assert (done.status_code, done.headers["location"]) == (303, "/home")
        set_cookie = done.headers["set-cookie"]
        assert "portal_session=" in set_cookie and "HttpOnly" in set_cookie
        assert "SameSite=lax" in set_cookie and "Domain" not in set_cookie
        home = await person.get("/home")
        assert home.status_code == 200
        assert contact["full_name"].split()[0] in home.text
        assert home.headers["cache-control"] == "no-store"

        # Spent: the same link now explains itself and offers a new one.
        again = await scanner.get(f"/continue?token={token_of(link)}")
        assert again.status_code == 410 and "send a new sign-in link" in again.text.lower()
        reuse = await scanner.client.post(
            f"/api/v1/auth/tokens/{token_of(link)}/redeem", json={"new_password": PASSWORD}
        )
        assert reuse.status_code in (401, 404, 409, 410) and scanner.session_cookie is None

    r = await gw.get(f"/api/v1/customers/{customer_id}", headers=running.headers())
    assert r.json()["contacts"][0]["has_password"] is True


async def test_a_magic_link_signs_in_once_and_unknown_addresses_get_the_same_answer(
    running, gw, mail
):
    browser, _, contact = await signed_in_contact(running, gw, mail)
    await browser.__aexit__()
    async with Browser(running) as fresh, Browser(running) as stranger:
        before = await newest_mail_id(mail)
        asked = await fresh.submit("/sign-in/link", "/sign-in/link", {"email": contact["email"]})
        nobody = await stranger.submit(
            "/sign-in/link",
            "/sign-in/link",
            {"email": f"nobody-{uuid.uuid4().hex[:6]}@example.com"},
        )
        assert (asked.status_code, asked.headers["location"]) == (303, "/sign-in/link")
        assert (nobody.status_code, nobody.headers["location"]) == (303, "/sign-in/link")
        shown = [await b.get("/sign-in/link") for b in (fresh, stranger)]
        assert all("If that address has access, a link is on its way" in s.text for s in shown)

        link = await link_for(mail, contact["email"], after=before)
        page = await fresh.get(f"/continue?token={token_of(link)}")
        assert f"Sign in as {contact['email']}" in page.text
        done = await fresh.follow(link)
        assert (done.status_code, done.headers["location"]) == (303, "/home")
        me = (await fresh.get("/api/v1/me")).json()
        assert (me["kind"], me["email"], me["roles"]) == ("client", contact["email"], ["approver"])

        reused = await stranger.get(f"/continue?token={token_of(link)}")
        assert reused.status_code == 410
        api = await stranger.client.post("/api/v1/auth/magic-link", json={"email": "x@example.org"})
        assert api.status_code == 202


async def test_an_expired_link_is_refused_and_offers_a_new_one(running, gw, mail):
    customer_id, (contact,) = await new_customer(running, gw, "viewer")
    before = await newest_mail_id(mail)
    await invite(running, gw, customer_id, contact["id"])
    link = await link_for(mail, contact["email"], after=before)
    # Test-only: age the link in identity's database rather than wait 7 days.
    pg = running.suite.postgres
    conn = await asyncpg.connect(host=pg.host, port=pg.port, user="postgres", database="identity")
    try:
        digest = hashlib.sha256(token_of(link).encode()).hexdigest()
        status = await conn.execute(
            "UPDATE login_token SET expires_at = now() - interval '1 minute' WHERE token_hash = $1",
            digest,
        )
    finally:
        await conn.close()
    assert status == "UPDATE 1"
    async with Browser(running) as browser:
        page = await browser.get(f"/continue?token={token_of(link)}")
        assert page.status_code == 410
        assert 'action="/sign-in/link"' in page.text
        redeem = await browser.client.post(
            f"/api/v1/auth/tokens/{token_of(link)}/redeem", json={"new_password": PASSWORD}
        )
        assert redeem.status_code >= 400 and browser.session_cookie is None


async def test_a_password_reset_sets_a_new_password_and_ends_other_sessions(running, gw, mail):
    laptop, _, contact = await signed_in_contact(running, gw, mail)
    async with laptop, Browser(running) as phone:
        before = await newest_mail_id(mail)
        asked = await phone.submit(
            "/password/forgot", "/password/forgot", {"email": contact["email"]}
        )
        assert asked.status_code == 303
        link = await link_for(mail, contact["email"], after=before)
        page = await phone.get(f"/continue?token={token_of(link)}")
        assert "Choose a new password" in page.text
        new_password = PASSWORD + " reset"
        done = await phone.follow(link, password=new_password)
        assert (done.status_code, done.headers["location"]) == (303, "/home")

        # The laptop's session ended at once.
        gone = await laptop.get("/home")
        assert (gone.status_code, gone.headers["location"]) == (303, "/")
        assert (await laptop.get("/api/v1/me")).status_code == 401

        async with Browser(running) as again:
            old = await again.submit(
                "/", "/sign-in", {"email": contact["email"], "password": PASSWORD}
            )
            assert old.status_code == 401
            new = await again.submit(
                "/", "/sign-in", {"email": contact["email"], "password": new_password}
            )
            assert (new.status_code, new.headers["location"]) == (303, "/home")


# -- password sign-in, throttling, sessions ----------------------------------------------


async def test_wrong_passwords_and_unknown_addresses_read_the_same(running, gw, mail):
    browser, _, contact = await signed_in_contact(running, gw, mail)
    await browser.__aexit__()
    async with Browser(running) as b:
        wrong = await b.submit("/", "/sign-in", {"email": contact["email"], "password": "nope"})
        unknown = await b.submit(
            "/",
            "/sign-in",
            {"email": f"ghost-{uuid.uuid4().hex[:6]}@example.com", "password": "nope"},
        )
    assert wrong.status_code == unknown.status_code == 401
    message = re.search(r'class="alert alert-error"[^>]*><p>([^<]+)', wrong.text)
    assert message and message.group(1) in unknown.text


async def test_repeated_failures_are_throttled_with_retry_after(running, gw, mail):
    browser, _, contact = await signed_in_contact(running, gw, mail)
    await browser.__aexit__()
    async with Browser(running) as b:
        statuses = []
        for _ in range(8):
            r = await b.client.post(
                "/api/v1/auth/sign-in", json={"email": contact["email"], "password": "wrong"}
            )
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) == {401}, statuses
        assert r.headers["content-type"] == PROBLEM and int(r.headers["retry-after"]) > 0
        assert "Too many" in r.json()["detail"]
        # Even the right password waits now, and the page says so plainly.
        page = await b.submit("/", "/sign-in", {"email": contact["email"], "password": PASSWORD})
        assert page.status_code == 429 and int(page.headers["retry-after"]) > 0
        assert "Too many sign-in attempts" in page.text


async def test_a_contact_sees_their_sessions_and_signs_out_the_others(running, gw, mail):
    laptop, _, contact = await signed_in_contact(running, gw, mail)
    async with laptop, Browser(running) as phone:
        signed = await phone.client.post(
            "/api/v1/auth/sign-in",
            json={"email": contact["email"], "password": PASSWORD},
            headers={"User-Agent": "Mozilla/5.0 (iPhone) Safari/604.1"},
        )
        assert signed.status_code == 200 and signed.json()["me"]["kind"] == "client"
        sessions = (await laptop.get("/api/v1/me/sessions")).json()["sessions"]
        assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
        account = await laptop.get("/account")
        assert "Safari on iPhone" in account.text and "This device" in account.text

        # Cookie-authenticated changes need the CSRF header.
        bare = await laptop.client.post("/api/v1/me/sessions/revoke-others")
        assert bare.status_code == 403 and bare.headers["content-type"] == PROBLEM
        assert (await phone.get("/api/v1/me")).status_code == 200

        out = await laptop.submit("/account", "/account/sessions/revoke-others", {})
        assert out.status_code == 303
        assert (await phone.get("/api/v1/me")).status_code == 401
        assert (await laptop.get("/api/v1/me")).status_code == 200

        bye = await laptop.submit("/home", "/sign-out", {})
        assert (bye.status_code, bye.headers["location"]) == (303, "/")
        assert laptop.session_cookie is None
        assert (await laptop.get("/home")).status_code == 303


async def test_a_session_cookie_is_worthless_on_another_tenants_host(running, gw, mail):
    platform = Principal(kind="platform", subject="e2e")
    try:
        await identity_call(
            running,
            "CreateTenant",
            ipb.CreateTenantRequest(
                request_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, "globex.e2e")),
                slug="globex",
                display_name="Globex AV",
                time_zone="Europe/London",
                currency="GBP",
                region="GB",
            ),
            platform,
        )
    except Exception as exc:  # created by an earlier run of this session
        assert "exists" in str(exc).lower() or "ALREADY_EXISTS" in str(exc), exc
    acme, _, _ = await signed_in_contact(running, gw, mail)
    async with acme, Browser(running, host="globex.localhost") as globex:
        assert (await globex.get("/")).status_code == 200  # the host is a real portal
        stolen = acme.session_cookie
        assert stolen
        globex.client.cookies.set("portal_session", stolen)
        assert (await globex.get("/api/v1/me")).status_code == 401
        home = await globex.get("/home")
        assert (home.status_code, home.headers["location"]) == (303, "/")
        assert (await acme.get("/api/v1/me")).status_code == 200  # still fine at home


async def test_the_staff_api_takes_a_cookie_session_with_csrf(running, gw, mail):
    async with await staff_browser(running, mail) as staff:
        listed = await staff.get("/api/v1/customers")
        assert listed.status_code == 200 and listed.json()["customers"]
        bare = await staff.client.post("/api/v1/customers", json={"name": "No CSRF"})
        assert bare.status_code == 403
        made = await staff.api(
            "POST",
            "/api/v1/customers",
            {
                "name": "With CSRF",
                "contacts": [
                    {
                        "email": f"csrf-{uuid.uuid4().hex[:6]}@example.com",
                        "full_name": "C S",
                        "role": "viewer",
                    }
                ],
            },
        )
        assert made.status_code == 201, made.text
    client, _, _ = await signed_in_contact(running, gw, mail)
    async with client:
        assert (await client.get("/api/v1/customers")).status_code == 403
        assert (await client.get("/console")).status_code == 403


# -- staff: TOTP, tokens, branding, view-as -------------------------------------------------


async def test_staff_with_totp_are_asked_for_a_code(running, gw, mail):
    tenant_principal = Principal(
        kind="platform", subject="e2e", tenant_id=running.info["tenant_id"]
    )
    email = f"tech-{uuid.uuid4().hex[:6]}@acme-av.example"
    await identity_call(
        running,
        "CreateStaffUser",
        ipb.CreateStaffUserRequest(
            request_id=str(uuid.uuid4()),
            email=email,
            full_name="Theo Tech",
            roles=[ipb.STAFF_ROLE_TECHNICIAN],
        ),
        tenant_principal,
    )
    async with Browser(running) as b:
        # People set their own passwords: through a reset link here.
        before = await newest_mail_id(mail)
        asked = await b.client.post("/api/v1/auth/password-reset", json={"email": email})
        assert asked.status_code == 202
        link = await link_for(mail, email, after=before)
        r = await b.follow(link, password=PASSWORD)
        assert r.headers.get("location") == "/console", (r.status_code, alert(r.text))
        begun = await b.submit("/console/security", "/console/security/totp", {})
        secret = re.search(r'name="secret" value="([A-Z2-7=]+)"', begun.text)
        assert secret and "otpauth://" in begun.text
        confirmed = await b.submit(
            "/console/security",
            "/console/security/totp/confirm",
            {"code": totp(secret.group(1)), "secret": secret.group(1)},
        )
        assert "Save these recovery codes now" in confirmed.text
        await b.submit("/console", "/sign-out", {})

        asked = await b.submit("/", "/sign-in", {"email": email, "password": PASSWORD})
        assert asked.status_code == 200 and "Enter your code" in asked.text
        assert b.session_cookie is None
        api = await b.client.post(
            "/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD}
        )
        assert api.json() == {"totp_required": True, "me": None}
        done = await b.submit(
            "/",
            "/sign-in",
            {
                "email": email,
                "password": PASSWORD,
                "totp_code": totp(secret.group(1)),
                "code_step": "1",
            },
        )
        assert done.headers.get("location") == "/console", (done.status_code, alert(done.text))


async def test_api_tokens_are_issued_listed_with_last_use_and_revoked(running, gw):
    issued = await gw.post("/api/v1/tokens", headers=running.headers(), json={"name": "e2e"})
    assert issued.status_code == 201, issued.text
    secret, token_id = issued.json()["secret"], issued.json()["token"]["id"]
    used = await gw.get("/api/v1/customers", headers=running.headers(token=secret))
    assert used.status_code == 200
    tokens = (await gw.get("/api/v1/tokens", headers=running.headers())).json()["tokens"]
    mine = next(t for t in tokens if t["id"] == token_id)
    assert mine["last_used_at"] and mine["prefix"] and secret.startswith(mine["prefix"])
    revoked = await gw.delete(f"/api/v1/tokens/{token_id}", headers=running.headers())
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await gw.get("/api/v1/customers", headers=running.headers(token=secret))
    assert after.status_code == 401
    staff = await gw.get("/api/v1/staff-users", headers=running.headers())
    assert running.info["staff_email"] in [u["email"] for u in staff.json()["users"]]


async def test_a_branding_change_shows_on_the_next_page_load(running, gw):
    before = (await gw.get("/api/v1/tenant", headers=running.headers(token=False))).json()
    headline = f"Built right, {uuid.uuid4().hex[:6]}"
    changed = await gw.patch(
        "/api/v1/tenant",
        headers=running.headers(),
        json={"branding": {"headline": headline, "accent_color": "#ffd400"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["display_name"] == before["display_name"]  # untouched
    try:
        page = await gw.get("/", headers={"Host": running.host})
        assert headline in page.text
        version = re.search(r"/theme\.css\?v=([0-9a-f]+)", page.text).group(1)  # type: ignore[union-attr]
        css = await gw.get(f"/theme.css?v={version}", headers={"Host": running.host})
        assert "--accent: #ffd400;" in css.text and "--on-accent: #111827;" in css.text
        bad = await gw.patch(
            "/api/v1/tenant", headers=running.headers(), json={"time_zone": "Mars/Olympus"}
        )
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    finally:
        await gw.patch(
            "/api/v1/tenant",
            headers=running.headers(),
            json={
                "branding": {k: before["branding"][k] or "" for k in ("headline", "accent_color")}
            },
        )


async def test_the_console_branding_form_saves_only_the_fields_changed_on_it(running, gw, mail):
    before = (await gw.get("/api/v1/tenant", headers=running.headers(token=False))).json()
    headline, phone = f"Built right, {uuid.uuid4().hex[:6]}", "+1 555 0199"
    async with await staff_browser(running, mail) as staff:
        page = await staff.get("/console/branding")
        shown = html.unescape(SHOWN_FIELD.search(page.text).group(1))  # type: ignore[union-attr]
        form = json.loads(shown)
        # Another admin changes the support phone after the form was opened.
        other = await gw.patch(
            "/api/v1/tenant", headers=running.headers(), json={"branding": {"support_phone": phone}}
        )
        assert other.status_code == 200, other.text
        try:
            saved = await staff.submit(
                "/console/branding",
                "/console/branding",
                {**form, "headline": headline, "shown": shown},
            )
            assert (saved.status_code, saved.headers["location"]) == (303, "/console/branding")
            after = (await gw.get("/api/v1/tenant", headers=running.headers(token=False))).json()
            assert after["branding"]["headline"] == headline
            assert after["branding"]["support_phone"] == phone  # not put back by the form
            assert after["display_name"] == before["display_name"]
            refused = await staff.submit(
                "/console/branding", "/console/branding", {**form, "time_zone": "Mars/Olympus"}
            )
            assert refused.status_code == 422 and "Mars/Olympus" in refused.text
        finally:
            await gw.patch(
                "/api/v1/tenant",
                headers=running.headers(),
                json={
                    "branding": {
                        k: before["branding"][k] or "" for k in ("headline", "support_phone")
                    }
                },
            )


async def test_staff_view_a_clients_portal_read_only_with_a_banner(running, gw, mail):
    customer_id = running.info["demo_customer_id"]
    async with await staff_browser(running, mail) as staff:
        r = await staff.submit(
            f"/console/customers/{customer_id}", f"/console/customers/{customer_id}/view-as", {}
        )
        assert (r.status_code, r.headers["location"]) == (303, "/home")
        # With one project, home is its status board.
        home = await staff.get("/home", follow_redirects=True)
        assert "Client view:" in home.text and "Exit client view" in home.text
        assert "Home cinema &amp; whole-home audio" in home.text  # the demo project
        me = (await staff.get("/api/v1/me")).json()
        assert me["view_as_client"] and me["read_only"] and me["customer_id"] == customer_id
        out = await staff.submit("/account", "/view-as/exit", {})
        assert out.headers["location"] == f"/console/customers/{customer_id}"
        assert (await staff.get("/home")).headers["location"] == "/console"
    audit = await gw.get("/api/v1/audit", headers=running.headers())
    assert audit.status_code == 200
    assert any("view" in e["action"] for e in audit.json()["entries"]), audit.json()


# -- customer access lifecycle ----------------------------------------------------------------


async def access_mails(mail, contacts: list[dict], *, after: int) -> None:
    """Every contact got an email about the change (no one-time link in it)."""

    async def everyone() -> bool:
        for contact in contacts:
            got = await mails_to(mail, contact["email"], after=after)
            if not [m for m in got if "/continue?token=" not in (m["text"] or "")]:
                return False
        return True

    await wait_for(everyone)


async def change_access(running, gw, customer_id: str, state: str) -> dict:
    r = await gw.post(
        f"/api/v1/customers/{customer_id}/access", headers=running.headers(), json={"state": state}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_archiving_makes_the_portal_read_only_and_restoring_reopens_it(running, gw, mail):
    browser, customer_id, _ = await signed_in_contact(running, gw, mail)
    second = await gw.post(
        f"/api/v1/customers/{customer_id}/contacts",
        headers=running.headers(),
        json={
            "email": f"second-{uuid.uuid4().hex[:6]}@example.com",
            "full_name": "Sam Second",
            "role": "viewer",
        },
    )
    assert second.status_code == 201, second.text
    customer = (await gw.get(f"/api/v1/customers/{customer_id}", headers=running.headers())).json()
    assert len(customer["contacts"]) == 2
    async with browser:
        before = await newest_mail_id(mail)
        archived = await change_access(running, gw, customer_id, "archived")
        assert archived["access_state"] == "archived"
        await access_mails(mail, customer["contacts"], after=before)
        home = await browser.get("/home")
        assert home.status_code == 200 and "Read-only:" in home.text
        me = (await browser.get("/api/v1/me")).json()
        assert me["read_only"] and me["access_state"] == "archived"

        before = await newest_mail_id(mail)
        assert (await change_access(running, gw, customer_id, "active"))["access_state"] == "active"
        await access_mails(mail, customer["contacts"], after=before)
        home = await browser.get("/home")
        assert "Read-only:" not in home.text
        assert not (await browser.get("/api/v1/me")).json()["read_only"]


async def test_deleting_closes_the_portal_at_once_and_restoring_lets_them_back(running, gw, mail):
    browser, customer_id, contact = await signed_in_contact(running, gw, mail)
    async with browser:
        before = await newest_mail_id(mail)
        deleted = await change_access(running, gw, customer_id, "deleted")
        assert deleted["access_state"] == "deleted" and deleted["purge_after"]
        await access_mails(mail, [contact], after=before)
        gone = await browser.get("/home")
        assert (gone.status_code, gone.headers["location"]) == (303, "/")
        refused = await browser.submit(
            "/", "/sign-in", {"email": contact["email"], "password": PASSWORD}
        )
        assert refused.status_code >= 400 and browser.session_cookie is None

        before = await newest_mail_id(mail)
        await change_access(running, gw, customer_id, "active")
        await access_mails(mail, [contact], after=before)
        back = await browser.submit(
            "/", "/sign-in", {"email": contact["email"], "password": PASSWORD}
        )
        assert (back.status_code, back.headers["location"]) == (303, "/home")


async def test_removing_a_contact_ends_their_sessions(running, gw, mail):
    browser, customer_id, contact = await signed_in_contact(running, gw, mail)
    async with browser:
        r = await gw.delete(
            f"/api/v1/customers/{customer_id}/contacts/{contact['id']}", headers=running.headers()
        )
        assert r.status_code == 204
        assert (await browser.get("/api/v1/me")).status_code == 401
    other_id, _ = await new_customer(running, gw, "viewer")
    wrong = await gw.delete(
        f"/api/v1/customers/{other_id}/contacts/{contact['id']}", headers=running.headers()
    )
    assert wrong.status_code == 404


async def test_projects_itself_closes_a_deleted_customers_portal(running, gw):
    """Service-level enforcement: even a valid client principal (as a stale
    gateway might mint) gets nothing from projects once the customer is deleted."""
    import grpc
    from portal.projects.v1 import projects_pb2 as ppb
    from portal.projects.v1 import projects_pb2_grpc

    from services.chassis.auth import Principal, PrincipalSigner
    from services.chassis.grpc_client import Caller, open_channel

    tag = uuid.uuid4().hex[:6]
    r = await gw.post(
        "/api/v1/customers",
        headers=running.headers(),
        json={
            "name": f"Closing {tag}",
            "contacts": [{"email": f"c-{tag}@example.com", "full_name": "C", "role": "viewer"}],
        },
    )
    assert r.status_code == 201, r.text
    customer = r.json()
    project = await gw.post(
        "/api/v1/projects",
        headers=running.headers(),
        json={"name": f"Theatre {tag}", "customer_id": customer["id"], "site_address": "1 Road"},
    )
    assert project.status_code == 201
    client = Principal(
        kind="client",
        subject=customer["contacts"][0]["id"],
        tenant_id=running.info["tenant_id"],
        customer_id=customer["id"],
        roles=frozenset({"viewer"}),
    )
    call = Caller(PrincipalSigner(running.suite.private_key))
    async with open_channel(running.suite.target("projects")) as ch:
        stub = projects_pb2_grpc.ProjectsServiceStub(ch)
        seen = await call(stub.ListProjects, ppb.ListProjectsRequest(), client)
        assert [p.name for p in seen.projects] == [f"Theatre {tag}"]

        r = await gw.post(
            f"/api/v1/customers/{customer['id']}/access",
            headers=running.headers(),
            json={"state": "deleted"},
        )
        assert r.status_code == 200, r.text

        async def closed():
            try:
                await call(stub.ListProjects, ppb.ListProjectsRequest(), client)
            except grpc.aio.AioRpcError as exc:
                return exc.code() == grpc.StatusCode.PERMISSION_DENIED
            return False

        await wait_for(closed, timeout=10)  # once projects has the event
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(
                stub.GetProject, ppb.GetProjectRequest(project_id=project.json()["id"]), client
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # Documents keeps its own copy of the access state and closes too.
    from portal.documents.v1 import documents_pb2 as dpb
    from portal.documents.v1 import documents_pb2_grpc

    async with open_channel(running.suite.target("documents")) as ch:
        docs = documents_pb2_grpc.DocumentsServiceStub(ch)

        async def documents_closed():
            try:
                await call(
                    docs.ListDocuments,
                    dpb.ListDocumentsRequest(project_id=project.json()["id"]),
                    client,
                )
            except grpc.aio.AioRpcError as exc:
                return exc.code() == grpc.StatusCode.PERMISSION_DENIED
            return False

        await wait_for(documents_closed, timeout=10)

"""Branding, every process separate: the demo integrator's uploaded logo served
from a content-addressed path for good, uploads through the API and the
console (sniffed and refused by identity), the logo on the signed PDF, the
pickers on the branding page, and the console's preview of the client's board
being the client's board."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re

import httpx
import pytest
from pypdf import PdfReader

from deploy.seed_brand import demo_logo
from tests.brand_images import SVG, image_bytes
from tests.e2e.test_front_door import CSRF_FIELD, PROBLEM, Browser, staff_browser
from tests.suite import Running

pytestmark = pytest.mark.e2e
LOGO_PATH = re.compile(r"^/brand/logo-[0-9a-f]{16}\.png$")
BOARD = re.compile(r"<!-- board -->(.*?)<!-- /board -->", re.S)


async def tenant(running: Running, gw: httpx.AsyncClient) -> dict:
    return (await gw.get("/api/v1/tenant", headers=running.headers(token=False))).json()


async def put_image(
    running: Running, gw: httpx.AsyncClient, kind: str, data: bytes, name: str = "logo.png"
) -> httpx.Response:
    # The declared type is a lie on purpose: identity reads the bytes. Sent with
    # a blocking client: a refusal may answer before the whole file is sent, and
    # an asyncio client loses an answer that arrives while it is still writing.
    def send() -> httpx.Response:
        with httpx.Client(base_url=running.suite.gateway_url, timeout=60, trust_env=False) as c:
            return c.put(
                f"/api/v1/tenant/branding/{kind}",
                headers=running.headers(),
                files={"file": (name, data, "application/octet-stream")},
            )

    return await asyncio.to_thread(send)


async def client_browser(running: Running) -> Browser:
    jane = next(c for c in running.info["client_logins"] if c["role"] == "approver")
    browser = Browser(running)
    signed = await browser.submit(
        "/", "/sign-in", {"email": jane["email"], "password": jane["password"]}
    )
    assert signed.status_code == 303, signed.text
    return browser


async def test_the_demo_logo_is_served_from_its_content_address_for_good(running, gw):
    url = (await tenant(running, gw))["branding"]["logo_url"]
    assert LOGO_PATH.match(url), url
    host = {"Host": running.host}
    served = await gw.get(url, headers=host)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == demo_logo()
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = served.headers["etag"]
    assert etag == f'"{hashlib.sha256(served.content).hexdigest()}"'
    assert url.removeprefix("/brand/logo-")[:16] == etag[1:17]
    again = await gw.get(url, headers={**host, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    for wrong in (url.replace(".png", ".jpg"), "/brand/logo-0123456789abcdef.png", "/brand/x"):
        assert (await gw.get(wrong, headers=host)).status_code == 404, wrong
    sign_in = await gw.get("/", headers=host)
    assert f'<img class="brand-logo" src="{url}"' in sign_in.text


async def test_an_uploaded_logo_replaces_the_old_one_and_is_drawn_on_the_signed_pdf(running, gw):
    before = (await tenant(running, gw))["branding"]["logo_url"]
    new = image_bytes(600, 150, color=(20, 90, 160), alpha=True)
    try:
        answer = await put_image(running, gw, "logo", new)
        assert answer.status_code == 200, answer.text
        image = answer.json()["image"]
        assert (image["content_type"], image["width"], image["height"]) == ("image/png", 600, 150)
        assert answer.json()["tenant"]["branding"]["logo_url"] == image["url"] != before
        served = await gw.get(image["url"], headers={"Host": running.host})
        assert served.content == new
        # The page just rendered before the change still finds the old image.
        assert (await gw.get(before, headers={"Host": running.host})).status_code == 200

        async with await client_browser(running) as jane:
            board = await jane.get(f"/projects/{running.info['demo_project_id']}")
            assert f'src="{image["url"]}"' in board.text
            assert "America/New_York" not in board.text  # never the raw zone name
            proposals = await jane.get(
                f"/api/v1/projects/{running.info['demo_project_id']}/proposals"
            )
            accepted = next(p for p in proposals.json()["proposals"] if p["status"] == "accepted")
            pdf = await jane.get(f"/api/v1/proposals/{accepted['id']}/pdf")
        assert pdf.status_code == 200, pdf.text
        (drawn,) = PdfReader(io.BytesIO(pdf.content)).pages[0].images
        assert drawn.image.size == (600, 150)  # the print copy of the logo just uploaded
    finally:
        restored = await put_image(running, gw, "logo", demo_logo())
        assert restored.json()["image"]["url"] == before


async def test_identity_refuses_svg_and_files_over_the_limit(running, gw):
    svg = await put_image(running, gw, "logo", SVG, name="logo.png")
    assert svg.status_code == 422 and svg.headers["content-type"] == PROBLEM
    assert "SVG" in svg.json()["detail"]
    huge = await put_image(running, gw, "splash", b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024))
    assert huge.status_code == 413, huge.text
    assert "5 MB" in huge.json()["detail"]
    small = await put_image(running, gw, "splash", image_bytes(300, 200, fmt="JPEG"))
    assert small.status_code == 422 and "at least 640 x 320" in small.json()["detail"]
    async with await client_browser(running) as jane:
        csrf = await jane.csrf()

        def send() -> httpx.Response:  # blocking, as put_image says why
            with httpx.Client(
                base_url=running.suite.gateway_url,
                headers=dict(jane.client.headers),
                cookies=jane.client.cookies,
                timeout=60,
                trust_env=False,
            ) as c:
                return c.put(
                    "/api/v1/tenant/branding/logo",
                    files={"file": ("x.png", image_bytes(), "image/png")},
                    headers={"X-CSRF-Token": csrf},
                )

        refused = await asyncio.to_thread(send)
    assert refused.status_code == 403, refused.text


async def test_the_branding_page_uploads_images_and_picks_zone_and_currency(running, gw, mail):
    before = (await tenant(running, gw))["branding"]
    async with await staff_browser(running, mail) as staff:
        page = await staff.get("/console/branding")
        assert '<optgroup label="America">' in page.text
        assert '<option value="America/New_York" selected>New York</option>' in page.text
        assert '<option value="USD" selected>USD · US Dollar</option>' in page.text
        csrf = CSRF_FIELD.search(page.text).group(1)  # type: ignore[union-attr]
        photo = image_bytes(1280, 720, fmt="WEBP", color=(40, 40, 48))
        done = await staff.client.post(
            "/console/branding/splash",
            data={"csrf_token": csrf},
            files={"file": ("site.webp", photo, "image/webp")},
        )
        assert (done.status_code, done.headers["location"]) == (303, "/console/branding")
        splash = (await tenant(running, gw))["branding"]["splash_image_url"]
        assert splash.startswith("/brand/splash-") and splash.endswith(".webp")
        shown = await staff.get("/console/branding")
        assert f'<img src="{splash}" alt="Your current sign-in image">' in shown.text
        refused = await staff.client.post(
            "/console/branding/logo",
            data={"csrf_token": csrf},
            files={"file": ("logo.svg", SVG, "image/svg+xml")},
        )
        assert refused.status_code == 422 and "SVG images are not accepted" in refused.text
        forged = await staff.post_blocking(
            "/console/branding/logo", files={"file": ("l.png", image_bytes(), "image/png")}
        )
        assert forged.status_code == 403  # no CSRF token, no upload
    restored = await gw.patch(
        "/api/v1/tenant",
        headers=running.headers(),
        json={"branding": {"splash_image_url": before["splash_image_url"] or ""}},
    )
    assert restored.status_code == 200, restored.text
    assert (await tenant(running, gw))["branding"]["logo_url"] == before["logo_url"]


async def test_the_consoles_preview_is_the_clients_board(running, mail):
    project_id = running.info["demo_project_id"]
    async with await client_browser(running) as jane:
        theirs = await jane.get(f"/projects/{project_id}")
    async with await staff_browser(running, mail) as staff:
        console = await staff.get(f"/console/projects/{project_id}")
    assert theirs.status_code == console.status_code == 200
    (client_board,) = BOARD.findall(theirs.text)
    (preview,) = BOARD.findall(console.text)
    assert "Where your project stands" in client_board and "Latest from the team" in client_board
    assert preview == client_board

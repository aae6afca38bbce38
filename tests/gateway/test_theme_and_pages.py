"""Theming (readable colours from any accent), the anonymous pages' markup and
headers, flash messages, and the settings the front door needs."""

from __future__ import annotations

import re

import grpc
import pytest
from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2
from pydantic import ValidationError

from gateway.app import create_app
from gateway.pages.rendering import Flash, decode_flash, describe_device, encode_flash
from gateway.problems import from_rpc_error
from gateway.security_headers import CSP
from gateway.settings import GatewaySettings
from gateway.theme import (
    INK,
    WHITE,
    contrast_ratio,
    ink_version,
    parse_hex,
    readable_on,
    safe_image_url,
    theme_css,
    theme_version,
)
from tests.gateway.conftest import acme, client_with_tenant
from tests.gateway.test_problems import rpc_error

PAGE_CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


# -- contrast -------------------------------------------------------------------------


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio(WHITE, (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio(WHITE, WHITE) == pytest.approx(1.0)
    assert contrast_ratio(WHITE, (0x76, 0x76, 0x76)) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(
    "accent", ["#b4442b", "#ffd400", "#00ff00", "#777777", "#0a0a0a", "#ffffff", "#1e90ff"]
)
def test_text_on_any_accent_reaches_aa_contrast(accent: str) -> None:
    rgb = parse_hex(accent)
    assert rgb is not None
    assert contrast_ratio(readable_on(rgb), rgb) >= 4.5
    assert contrast_ratio(ink_version(rgb), WHITE) >= 4.5  # links in the accent, on white


def test_a_light_accent_gets_dark_text_and_a_dark_accent_white_text() -> None:
    assert readable_on((0xFF, 0xD4, 0x00)) == INK
    assert readable_on((0x1F, 0x3A, 0x5F)) == WHITE


def test_a_dark_enough_accent_is_used_as_is_for_links() -> None:
    assert ink_version((0xB4, 0x44, 0x2B)) == (0xB4, 0x44, 0x2B)


def test_theme_css_carries_only_validated_colours() -> None:
    css = theme_css(identity_pb2.Branding(accent_color="#FFD400"))
    assert "--accent: #ffd400;" in css and "--on-accent: #111827;" in css
    hostile = theme_css(identity_pb2.Branding(accent_color="red;} body{display:none"))
    assert "display" not in hostile and "--accent: #2f5d8a;" in hostile


def test_the_theme_version_follows_the_branding() -> None:
    assert theme_version(acme()) == theme_version(acme())
    other = acme()
    other.branding.accent_color = "#123456"
    assert theme_version(other) != theme_version(acme())


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://cdn.example.com/logo.png", True),
        ("/static/logo.png", True),
        ("http://example.com/logo.png", False),
        ("//evil.example/logo.png", False),
        ("javascript:alert(1)", False),
        ('https://x.example/a.png" onerror="alert(1)', False),
        ("", False),
    ],
)
def test_branding_images_must_be_https_or_on_this_host(url: str, safe: bool) -> None:
    assert (safe_image_url(url) == url) is safe


# -- pages --------------------------------------------------------------------------


async def test_the_theme_stylesheet_is_per_tenant_and_briefly_cacheable(
    settings: GatewaySettings,
) -> None:
    async with client_with_tenant(create_app(settings), acme()) as client:
        r = await client.get("/theme.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert "--accent: #b4442b;" in r.text and "--on-accent: #ffffff;" in r.text
    assert r.headers["cache-control"] == "public, max-age=300"


async def test_the_static_stylesheet_is_served_and_cacheable(settings: GatewaySettings) -> None:
    async with client_with_tenant(create_app(settings), acme()) as client:
        r = await client.get("/static/portal.css")
    assert r.status_code == 200 and ":focus-visible" in r.text
    assert r.headers["cache-control"] == "public, max-age=86400"


async def test_the_splash_page_shows_the_brand_and_the_sign_in_form(
    settings: GatewaySettings,
) -> None:
    tenant = acme(
        logo_url="https://cdn.example.com/acme.png",
        splash_image_url="https://cdn.example.com/room.jpg",
    )
    async with client_with_tenant(create_app(settings), tenant) as client:
        r = await client.get("/")
    assert r.status_code == 200
    html = r.text
    assert "Acme Home Cinema" in html and "Your home cinema, built right." in html
    assert 'src="https://cdn.example.com/acme.png"' in html
    assert 'src="https://cdn.example.com/room.jpg"' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert '<label for="f-email">' in html and '<label for="f-password">' in html
    assert 'href="/sign-in/link"' in html and 'href="/password/forgot"' in html
    assert "Powered by Integrator Portal" in html
    assert 'aria-live="polite"' in html
    assert f"/theme.css?v={theme_version(tenant)}" in html
    assert r.headers["content-security-policy"] == PAGE_CSP == CSP
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"


async def test_pages_have_no_inline_style_or_script_and_escape_branding(
    settings: GatewaySettings,
) -> None:
    tenant = acme(headline="<script>alert(1)</script>")
    async with client_with_tenant(create_app(settings), tenant) as client:
        pages = [await client.get(p) for p in ("/", "/sign-in/link", "/password/forgot")]
    for page in pages:
        assert page.status_code == 200
        assert re.search(r"<script|\sstyle=|<style", page.text) is None, page.url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].text


async def test_powered_by_is_on_the_sign_in_page_only(settings: GatewaySettings) -> None:
    async with client_with_tenant(create_app(settings), acme()) as client:
        link = await client.get("/sign-in/link")
        forgot = await client.get("/password/forgot")
    assert "Powered by" not in link.text and "Powered by" not in forgot.text


async def test_the_dev_mail_link_shows_in_dev_only(settings: GatewaySettings) -> None:
    dev = settings.model_copy(update={"dev_mail_url": "http://127.0.0.1:8025"})
    prod = dev.model_copy(update={"environment": "prod", "csrf_key": "k" * 40})
    async with client_with_tenant(create_app(dev), acme()) as client:
        in_dev = await client.get("/")
    async with client_with_tenant(create_app(prod), acme()) as client:
        in_prod = await client.get("/")
    assert "http://127.0.0.1:8025" in in_dev.text
    assert "http://127.0.0.1:8025" not in in_prod.text
    assert in_prod.headers["strict-transport-security"].startswith("max-age=")
    assert any(c.startswith("__Host-portal_csrf=") for c in in_prod.headers.get_list("set-cookie"))


async def test_a_continue_link_without_a_token_explains_and_offers_a_new_one(
    settings: GatewaySettings,
) -> None:
    async with client_with_tenant(create_app(settings), acme()) as client:
        r = await client.get("/continue")
    assert r.status_code == 410
    assert "This link can't be used" in r.text and 'action="/sign-in/link"' in r.text
    assert r.headers["referrer-policy"] == "no-referrer"


# -- flash, throttling, settings ------------------------------------------------------


def test_a_flash_survives_one_round_trip_and_not_tampering_or_age(
    settings: GatewaySettings,
) -> None:
    value = encode_flash(settings, Flash("Saved.", "success"), now=1000)
    assert decode_flash(settings, value, now=1010) == Flash("Saved.", "success")
    assert decode_flash(settings, value, now=1000 + 3600) is None
    payload, mac = value.rsplit(".", 1)
    assert decode_flash(settings, payload + "x." + mac, now=1010) is None
    assert decode_flash(settings, "garbage", now=1010) is None


def test_a_throttled_sign_in_is_429_with_the_services_retry_after() -> None:
    detail = common_pb2.ErrorDetail(
        code="throttled",
        message="Too many attempts; try again in 2 minutes.",
        retry_after_seconds=120,
    )
    error = from_rpc_error(
        rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "", detail), service="identity"
    )
    assert error.problem.status == 429
    assert error.problem.detail == "Too many attempts; try again in 2 minutes."
    assert error.headers["Retry-After"] == "120"


def test_devices_are_described_plainly() -> None:
    chrome_mac = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    )
    assert describe_device(chrome_mac) == "Chrome on macOS"
    assert describe_device("") == "Unknown device"


def test_prod_needs_a_csrf_key_and_dev_derives_a_stable_one(settings: GatewaySettings) -> None:
    values = settings.model_dump(exclude={"csrf_key", "environment"})
    with pytest.raises(ValidationError, match="GATEWAY_CSRF_KEY"):
        GatewaySettings(_env_file=None, environment="prod", **values)
    prod = GatewaySettings(_env_file=None, environment="prod", csrf_key="k" * 40, **values)
    assert prod.csrf_secret == b"k" * 40 and prod.cookie_secure
    dev_a = GatewaySettings(_env_file=None, environment="dev", **values)
    dev_b = GatewaySettings(_env_file=None, environment="dev", **values)
    assert dev_a.csrf_secret == dev_b.csrf_secret and len(dev_a.csrf_secret) == 32
    assert not dev_a.cookie_secure and dev_a.session_cookie == "portal_session"

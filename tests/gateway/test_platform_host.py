"""The platform host (the bare base domain) and the API docs: the docs and the
OpenAPI document answer there for anyone and, on an integrator's host, for its
staff only; the platform API answers there only, and only to the platform
token. Identity is an in-process fake (or a port nobody listens on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from gateway.app import create_app
from gateway.problems import MEDIA_TYPE
from gateway.settings import GatewaySettings
from gateway.tenancy import is_platform_host
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_for, client_with_tenant, client_without_lifespan
from tests.gateway.identity_fakes import GOOD_TOKEN

PLATFORM_TOKEN = "plt_" + "x" * 40
DOCS = ("/api/docs", "/api/docs/init.js", "/api/openapi.json")
NEW_TENANT = {"slug": "brightwave", "name": "Brightwave AV", "owner_email": "sam@bw.example"}


@pytest.fixture
async def fakes(keypair) -> AsyncIterator[F.Fakes]:
    async with F.fake_services(keypair[1]) as running:
        yield running


@asynccontextmanager
async def on_tenant_host(
    settings: GatewaySettings, fakes: F.Fakes, session=None
) -> AsyncIterator[httpx.AsyncClient]:
    fakes.identity.session = session
    fakes.identity.staff_token_user = F.IP.StaffUser(id=F.STAFF_ID, roles=[F.IP.STAFF_ROLE_OWNER])
    app = create_app(settings.model_copy(update={"identity_target": fakes.identity_target}))
    async with client_with_tenant(app, acme(), cookies={"portal_session": "good-session"}) as c:
        yield c


@pytest.mark.parametrize(
    ("host", "platform"),
    [
        ("localhost", True),
        ("LOCALHOST:8000", True),
        ("localhost.", True),
        ("acme.localhost", False),
        ("localhost.evil.example", False),
        ("evil.localhost.example", False),
        ("127.0.0.1:8000", False),
        ("[::1]:8000", False),
        (None, False),
    ],
)
def test_the_platform_host_is_the_bare_base_domain(host, platform):
    assert is_platform_host(host, base_domain="localhost") is platform


# -- the docs ---------------------------------------------------------------------------


async def test_the_docs_answer_anyone_on_the_platform_host(settings: GatewaySettings) -> None:
    # No lifespan, no identity: nothing on the platform host asks a service for the docs.
    async with client_without_lifespan(create_app(settings), host="localhost:8000") as c:
        page, init, doc = [await c.get(path) for path in DOCS]
        portal = await c.get("/")
        api = await c.get("/api/v1/tenant")
    assert (page.status_code, init.status_code, doc.status_code) == (200, 200, 200)
    assert "swagger-ui" in page.text and '"url": "/api/openapi.json"' in init.text
    assert "/api/v1/platform/tenants" in doc.json()["paths"]
    # Nothing else lives on the platform host.
    assert portal.status_code == api.status_code == 404
    assert api.headers["content-type"] == MEDIA_TYPE


@pytest.mark.parametrize("who", ["anonymous", "client"])
async def test_the_docs_are_not_found_for_a_client_or_a_visitor_of_an_integrator(
    settings, fakes, who
) -> None:
    session = F.client_session() if who == "client" else None
    async with on_tenant_host(settings, fakes, session) as c:
        if who == "anonymous":
            c.cookies.clear()
        answers = [await c.get(path) for path in DOCS]
    for r in answers:
        assert (r.status_code, r.headers["content-type"]) == (404, MEDIA_TYPE), r.url
        assert r.json()["code"] == "not_found" and "swagger" not in r.text.lower()


async def test_the_docs_answer_an_integrators_staff(settings, fakes) -> None:
    async with on_tenant_host(settings, fakes, F.staff_session()) as c:
        by_session = [await c.get(path) for path in DOCS]
        c.cookies.clear()
        by_token = await c.get(
            "/api/openapi.json", headers={"Authorization": f"Bearer {GOOD_TOKEN}"}
        )
        by_bad_token = await c.get("/api/openapi.json", headers={"Authorization": "Bearer nope"})
    assert [r.status_code for r in by_session] == [200, 200, 200]
    assert by_token.status_code == 200 and "/api/v1/projects" in by_token.json()["paths"]
    assert by_bad_token.status_code == 404


# -- the platform API -------------------------------------------------------------------


async def test_without_a_platform_token_configured_the_platform_api_is_not_there(
    settings: GatewaySettings,
) -> None:
    async with client_without_lifespan(create_app(settings), host="localhost") as c:
        r = await c.post(
            "/api/v1/platform/tenants",
            json=NEW_TENANT,
            headers={"Authorization": f"Bearer {PLATFORM_TOKEN}"},
        )
    assert (r.status_code, r.headers["content-type"]) == (404, MEDIA_TYPE)
    assert r.json()["code"] == "not_found"


async def test_the_platform_api_needs_the_platform_token(settings: GatewaySettings) -> None:
    app = create_app(settings.model_copy(update={"platform_token": PLATFORM_TOKEN}))
    async with client_for(app, host="localhost:8000") as c:
        missing = await c.post("/api/v1/platform/tenants", json=NEW_TENANT)
        wrong = await c.post(
            "/api/v1/platform/tenants",
            json=NEW_TENANT,
            headers={"Authorization": f"Bearer {PLATFORM_TOKEN[:-1]}y"},
        )
        right = await c.post(
            "/api/v1/platform/tenants",
            json=NEW_TENANT,
            headers={"Authorization": f"Bearer {PLATFORM_TOKEN}"},
        )
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    assert missing.json()["code"] == "missing_token"
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_token"
    assert wrong.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # Past the token, identity is asked (and nobody listens on its port here).
    assert right.status_code == 503, right.text
    assert right.json()["detail"] == "The identity service is unavailable; try again shortly."


async def test_the_platform_api_is_not_on_an_integrators_host(settings, fakes) -> None:
    configured = settings.model_copy(update={"platform_token": PLATFORM_TOKEN})
    async with on_tenant_host(configured, fakes) as c:
        r = await c.post(
            "/api/v1/platform/tenants",
            json=NEW_TENANT,
            headers={"Authorization": f"Bearer {PLATFORM_TOKEN}"},
        )
    assert (r.status_code, r.headers["content-type"]) == (404, MEDIA_TYPE)


def test_prod_refuses_a_short_platform_token(settings: GatewaySettings) -> None:
    prod = {"environment": "prod", "csrf_key": "k" * 40}
    with pytest.raises(ValueError, match="PLATFORM_TOKEN"):
        GatewaySettings.model_validate(settings.model_dump() | prod | {"platform_token": "short"})
    assert GatewaySettings.model_validate(settings.model_dump() | prod).platform_token == ""

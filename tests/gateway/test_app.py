"""The assembled gateway, for what it answers before any service is asked,
and when the service it needs is down."""

from __future__ import annotations

import re

import httpx

from gateway import docs, problems
from gateway.app import GatewayApp, create_app
from gateway.problems import MEDIA_TYPE
from gateway.security_headers import CSP
from gateway.settings import GatewaySettings
from tests.gateway.conftest import client_for, client_without_lifespan

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


async def test_a_host_outside_the_base_domain_gets_a_plain_404_page(
    settings: GatewaySettings,
) -> None:
    # No lifespan: had the gateway asked identity, this would have failed loudly.
    async with client_without_lifespan(create_app(settings), host="evil.example") as client:
        r = await client.get("/")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Not found" in r.text
    assert_security_headers(r)
    assert "strict-transport-security" not in r.headers


async def test_the_api_on_an_unknown_host_answers_a_404_problem(
    settings: GatewaySettings,
) -> None:
    async with client_without_lifespan(create_app(settings), host="localhost:8000") as client:
        r = await client.get("/api/v1/projects")
    assert (r.status_code, r.headers["content-type"]) == (404, MEDIA_TYPE)
    body = r.json()
    assert body["type"] == "https://portal.dev/problems/not-found"
    assert body["instance"] == "/api/v1/projects"
    assert body["detail"]
    assert_security_headers(r)


async def test_healthz_answers_on_any_host(settings: GatewaySettings) -> None:
    async with client_without_lifespan(create_app(settings), host="127.0.0.1:8000") as client:
        r = await client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    assert_security_headers(r)


async def test_hsts_is_sent_only_in_prod(settings: GatewaySettings) -> None:
    prod = settings.model_copy(update={"environment": "prod"})
    async with client_without_lifespan(create_app(prod), host="localhost") as client:
        r = await client.get("/healthz")
    assert r.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_identity_down_means_503_not_404(settings: GatewaySettings) -> None:
    # Nobody listens on the identity target: the channel fails fast with UNAVAILABLE.
    async with client_for(create_app(settings), host="acme.localhost") as client:
        api = await client.get("/api/v1/tenant")
        page = await client.get("/")
    assert (api.status_code, api.headers["content-type"]) == (503, MEDIA_TYPE)
    assert api.json()["detail"] == "The identity service is unavailable; try again shortly."
    assert api.headers["retry-after"] == "1"
    assert_security_headers(api)
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")


def test_the_openapi_document_describes_the_api_and_its_problems(
    settings: GatewaySettings,
) -> None:
    app = create_app(settings)
    doc = app.openapi()
    assert set(doc["paths"]) == {
        "/api/v1/tenant",
        "/api/v1/tenant/branding/{kind}",
        "/api/v1/tenant/upload-limit",
        "/api/v1/auth/sign-in",
        "/api/v1/auth/sign-out",
        "/api/v1/auth/magic-link",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/tokens/{token}",
        "/api/v1/auth/tokens/{token}/redeem",
        "/api/v1/me",
        "/api/v1/me/sessions",
        "/api/v1/me/sessions/{session_id}",
        "/api/v1/me/sessions/revoke-others",
        "/api/v1/me/password",
        "/api/v1/me/step-up/code",
        "/api/v1/me/step-up",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/contacts",
        "/api/v1/customers/{customer_id}/contacts/{contact_id}",
        "/api/v1/customers/{customer_id}/contacts/{contact_id}/invite",
        "/api/v1/customers/{customer_id}/access",
        "/api/v1/customers/{customer_id}/view-as",
        "/api/v1/staff-users",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/audit",
        "/api/v1/projects",
        "/api/v1/projects/{project_id}",
        "/api/v1/projects/{project_id}/stage",
        "/api/v1/projects/{project_id}/stages/{stage}",
        "/api/v1/projects/{project_id}/stage-history",
        "/api/v1/projects/{project_id}/board",
        "/api/v1/projects/{project_id}/rooms",
        "/api/v1/rooms/{room_id}",
        "/api/v1/rooms/{room_id}/lines",
        "/api/v1/lines/{line_id}",
        "/api/v1/projects/{project_id}/proposals",
        "/api/v1/proposals/{proposal_id}",
        "/api/v1/proposals/{proposal_id}/send",
        "/api/v1/proposals/{proposal_id}/accept",
        "/api/v1/proposals/{proposal_id}/pdf",
        "/api/v1/emails",
        "/api/v1/projects/{project_id}/folders",
        "/api/v1/projects/{project_id}/documents",
        "/api/v1/documents/{document_id}",
        "/api/v1/documents/{document_id}/visibility",
        "/api/v1/documents/{document_id}/restore",
        "/api/v1/documents/{document_id}/download-link",
        "/api/v1/documents/{document_id}/versions",
        "/api/v1/downloads/{token}",
        "/api/v1/platform/tenants",
        "/api/v1/invoices",
        "/api/v1/invoices/{invoice_id}",
        "/api/v1/projects/{project_id}/invoices",
        "/api/v1/invoices/{invoice_id}/issue",
        "/api/v1/invoices/{invoice_id}/void",
        "/api/v1/invoices/{invoice_id}/pdf",
        "/api/v1/payments/{payment_id}/receipt.pdf",
        "/api/v1/statement.pdf",
        "/api/v1/projects/{project_id}/payment-plan",
        "/api/v1/invoices/{invoice_id}/quote",
        "/api/v1/invoices/{invoice_id}/payments",
        "/api/v1/invoices/{invoice_id}/payments/{payment_id}/cancel",
        "/api/v1/invoices/{invoice_id}/offline-payments",
        "/api/v1/payments/{payment_id}/refunds",
        "/api/v1/payment-settings",
        "/api/v1/accounting",
        "/api/v1/accounting/connect",
        "/api/v1/accounting/complete",
        "/api/v1/accounting/connection",
        "/api/v1/accounting/sync-records",
        "/api/v1/accounting/sync-records/{sync_id}/retry",
        "/api/v1/projects/{project_id}/change-orders",
        "/api/v1/projects/{project_id}/contract",
        "/api/v1/change-orders/{change_order_id}",
        "/api/v1/change-orders/{change_order_id}/send",
        "/api/v1/change-orders/{change_order_id}/revise",
        "/api/v1/change-orders/{change_order_id}/withdraw",
        "/api/v1/change-orders/{change_order_id}/approve",
        "/api/v1/change-orders/{change_order_id}/push-back",
        "/api/v1/change-orders/{change_order_id}/compare",
        "/api/v1/change-orders/{change_order_id}/audit",
        "/api/v1/change-orders/{change_order_id}/certificate.pdf",
        "/api/v1/technicians",
        "/api/v1/technicians/{technician_id}",
        "/api/v1/time-off",
        "/api/v1/technicians/{technician_id}/time-off",
        "/api/v1/time-off/{time_off_id}",
        "/api/v1/technicians/{technician_id}/feed-token",
        "/api/v1/booking-settings",
        "/api/v1/projects/{project_id}/site",
        "/api/v1/service-types",
        "/api/v1/service-types/{service_type_id}",
        "/api/v1/projects/{project_id}/work-orders",
        "/api/v1/work-orders",
        "/api/v1/work-orders/{work_order_id}",
        "/api/v1/dispatch/bookings/{booking_id}/confirm",
        "/api/v1/dispatch/bookings/{booking_id}/reschedule",
        "/api/v1/dispatch/bookings/{booking_id}/cancel",
        "/api/v1/customers/{customer_id}/bookings",
        "/api/v1/stripe/webhook",
        "/api/v1/bookings",
        "/api/v1/bookings/service-types",
        "/api/v1/bookings/projects",
        "/api/v1/bookings/slots",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/bookings/{booking_id}/reschedule",
        "/api/v1/bookings/{booking_id}/cancel",
        "/api/v1/bookings/{booking_id}/calendar.ics",
        "/api/v1/projects/{project_id}/visit-photos",
    }
    taken = doc["paths"]["/api/v1/bookings"]["post"]["responses"]["409"]["content"]
    assert taken[MEDIA_TYPE]["schema"]["$ref"].endswith("/SlotTakenProblem")
    onboard = doc["paths"]["/api/v1/platform/tenants"]["post"]
    assert onboard["security"] == [{"PlatformToken": []}]
    assert {"201", "401", "409", "422"} <= set(onboard["responses"])
    assert set(doc["paths"]["/api/v1/tenant"]) == {"get", "patch"}
    access = doc["components"]["schemas"]["AccessChange"]["properties"]["state"]["enum"]
    assert access == ["active", "archived", "deleted"]
    sign_in = doc["paths"]["/api/v1/auth/sign-in"]["post"]
    assert {"401", "422", "429"} <= set(sign_in["responses"])
    stage = doc["paths"]["/api/v1/projects/{project_id}/stage"]["post"]
    assert stage["operationId"] == "change_project_stage"
    # Client generators key methods by operationId: two routes sharing one
    # (the client's and dispatch's cancel once did) would make one unreachable.
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert stage["security"] == [{"HTTPBearer": []}]
    assert set(stage["responses"]["422"]["content"]) == {MEDIA_TYPE}
    stages = doc["components"]["schemas"]["StageChange"]["properties"]["stage"]["enum"]
    assert stages == ["design", "procurement", "install", "commissioning", "handover"]
    assert set(doc["paths"]["/api/v1/rooms/{room_id}"]) == {"patch", "delete"}
    for pdf in (
        "/api/v1/invoices/{invoice_id}/pdf",
        "/api/v1/payments/{payment_id}/receipt.pdf",
        "/api/v1/statement.pdf",
    ):
        assert set(doc["paths"][pdf]["get"]["responses"]["200"]["content"]) == {"application/pdf"}
    statement = doc["paths"]["/api/v1/statement.pdf"]["get"]["parameters"]
    assert {p["name"]: p["required"] for p in statement} == {
        "from": True,
        "to": True,
        "customer_id": False,
    }
    pdf = doc["paths"]["/api/v1/proposals/{proposal_id}/pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    accept = doc["components"]["schemas"]["Acceptance"]
    assert set(accept["required"]) == {"signer_name", "consent", "content_sha256"}
    assert "/healthz" not in doc["paths"]
    work_orders = doc["paths"]["/api/v1/projects/{project_id}/work-orders"]["post"]
    assert {"201", "403", "409", "422"} <= set(work_orders["responses"])
    statuses = doc["components"]["schemas"]["WorkOrderChange"]["properties"]["status"]
    assert "in_progress" in str(statuses)


async def test_the_docs_page_allows_swagger_ui_assets_and_no_inline_script(
    settings: GatewaySettings,
) -> None:
    # The platform host: the docs need no service there.
    async with client_without_lifespan(create_app(settings), host="localhost:8000") as c:
        page = await c.get("/api/docs")
        init = await c.get("/api/docs/init.js")
    csp = page.headers["content-security-policy"]
    assert csp == docs.DOCS_CSP
    assert "script-src 'self' https://cdn.jsdelivr.net;" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert re.search(r"<script>", page.text) is None  # every script has a src
    assert init.headers["content-type"].startswith("text/javascript")
    assert '"url": "/api/openapi.json"' in init.text


async def test_even_an_unhandled_error_answers_with_security_headers(
    settings: GatewaySettings,
) -> None:
    # Starlette's last-resort handler answers outside user middleware.
    app = GatewayApp(settings=settings)
    problems.install(app)

    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://acme.localhost") as c:
        r = await c.get("/api/boom")
    assert (r.status_code, r.headers["content-type"]) == (500, MEDIA_TYPE)
    assert "internals" not in r.text
    assert_security_headers(r)

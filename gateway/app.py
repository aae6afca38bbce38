"""The composition root: `create_app(settings)` wires the gateway. Nothing is
built at import time; channels open and close with the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.telemetry import TelemetryConfig
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from gateway import api, docs, health, overload, pages, problems, theme
from gateway.backends import open_backends
from gateway.body_limits import BodyLimits
from gateway.identity_cache import CredentialCache, ForgetOnWrite, IdentityEvents
from gateway.pages.rendering import build_templates, render_problem
from gateway.route_gates import gate_routes, index_routes
from gateway.security_headers import SecurityHeaders
from gateway.settings import GatewaySettings
from gateway.tenancy import TenantCache, TenantMiddleware, fetch_from_identity
from gateway.tracing import ServerSpans
from services.chassis.telemetry import get_logger, setup_telemetry

log = get_logger(__name__)

NO_FASTAPI_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


class GatewayApp(FastAPI):
    """FastAPI with the security headers outside everything: Starlette's
    last-resort 500 handler answers outside user middleware, and its responses
    need the headers too. Inside them, the body limits: a body over its cap is
    refused before a tenant lookup, a token check or a slot in flight."""

    def __init__(self, *, settings: GatewaySettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.body_limits = BodyLimits(super().__call__, max_file_bytes=settings.max_upload_bytes)
        # Stripe's webhooks skip the rest (gateway/api/stripe_webhook.py: FastPath).
        webhooks = api.stripe_webhook.FastPath(
            self.body_limits,
            spans=lambda endpoint: ServerSpans(endpoint, excluded_paths=(health.PATH,)),
        )
        self._edge = SecurityHeaders(webhooks, hsts=settings.environment == "prod")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._edge(scope, receive, send)


def create_app(settings: GatewaySettings) -> FastAPI:
    setup_telemetry("gateway", log_level=settings.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with open_backends(settings) as backends:
            tenants = TenantCache(
                fetch=fetch_from_identity(backends.identity),
                ttl_seconds=settings.tenant_cache_seconds,
            )
            credentials = CredentialCache(ttl_seconds=settings.auth_cache_seconds)
            events = IdentityEvents(credentials, url=settings.nats_url)
            if settings.nats_url and settings.auth_cache_seconds > 0:
                await events.start()
            log.info("gateway ready", base_domain=settings.base_domain)
            try:
                # Lifespan state: copied into every request's `request.state`.
                yield {"backends": backends, "tenants": tenants, "credentials": credentials}
            finally:
                await events.stop()

    app = GatewayApp(
        settings=settings,
        title="Integrator Portal API",
        version="1",
        description=_description(settings),
        lifespan=lifespan,
        openapi_url=None,  # gateway.docs serves it, to staff and on the platform host
        docs_url=None,  # served by gateway.docs under its own CSP
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,  # operationId "get_project"
        # FastAPI's own telemetry turns itself on once a tracer provider is set:
        # a second server span around ours (gateway/tracing.py), a span per
        # dependency and endpoint, and metrics, for every request, sampled or
        # not (about a tenth of the gateway's CPU). Ours is the one server span.
        telemetry=NO_FASTAPI_TELEMETRY,
    )
    app.state.settings = settings
    app.state.templates = build_templates(auto_reload=settings.templates_reload)
    app.state.static_version = theme.static_version()
    app.add_middleware(ForgetOnWrite)
    app.add_middleware(
        TenantMiddleware,
        base_domain=settings.base_domain,
        open_paths=(health.PATH, api.stripe_webhook.PATH),
        platform_paths=(*docs.PATHS, api.platform.PATH),
    )
    app.add_middleware(overload.InFlightLimit, **overload.limits_from_env())  # shed, not 504
    problems.install(app, page_renderer=render_problem)
    pages.install(app)
    # Stripe's webhook first: routes are matched in order, and at ingest rates
    # matching it after every API route cost as much as the endpoint itself.
    # The order below is kept inside each route gate (see gate_routes).
    app.include_router(api.webhooks)
    app.include_router(health.router)
    app.include_router(docs.router)
    for router in api.routers:
        app.include_router(router, **api.INCLUDED_WITH)
    app.include_router(api.uploads)
    app.include_router(api.downloads)
    app.include_router(api.feeds)
    app.include_router(theme.router)
    for router in (*pages.console_routers, *pages.routers):
        app.include_router(router, dependencies=pages.CHECKED)
    app.mount("/static", theme.CachedStatic(directory=theme.STATIC_DIR), name="static")
    # The JSON API (webhook, docs, uploads and downloads included) and the
    # console each behind one gate: a page is not matched against ~130 API
    # routes, nor an API call against the pages. Inside the API's gate the
    # webhook, the project list and the bookings are tried first: the hot
    # paths (a hundred clients racing for one slot all post to /bookings).
    versioned = api.INCLUDED_WITH["prefix"]
    every_route = gate_routes(
        app,
        prefixes=("/api", "/console"),
        ahead=(
            api.stripe_webhook.PATH,
            versioned + api.projects.router.prefix,
            versioned + api.bookings.router.prefix,
        ),
    )
    # Then each path is tried only against the routes its first segment could
    # match: the client's board is not matched against the front door's pages.
    index_routes(app)
    schema: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not schema:  # from the routes as declared, not as gated
            schema.update(problems.tidy_openapi(openapi_of(app, every_route)))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    # Outermost user middleware, so the request's server span is the parent of
    # the gRPC client spans (tenant lookup and authentication included).
    app.add_middleware(ServerSpans, excluded_paths=(health.PATH,))
    return app


def openapi_of(app: FastAPI, routes: list[BaseRoute]) -> dict[str, Any]:
    """FastAPI's own `app.openapi()`, from `routes` instead of `app.routes`."""
    return get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        terms_of_service=app.terms_of_service,
        contact=app.contact,
        license_info=app.license_info,
        routes=routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
        servers=app.servers,
        separate_input_output_schemas=app.separate_input_output_schemas,
        external_docs=app.openapi_external_docs,
    )


def _description(settings: GatewaySettings) -> str:
    text = (
        "The integrator portal's JSON API. Each integrator has its own host, "
        f"`<slug>.{settings.base_domain}`; the API answers for that integrator only.\n\n"
        "Staff authenticate with an API token: `Authorization: Bearer <token>`. "
        "Browsers sign in with `POST /api/v1/auth/sign-in`, which sets an HttpOnly session "
        "cookie; with the cookie, every POST, PATCH and DELETE must send the `X-CSRF-Token` "
        "header that `GET /api/v1/me` returns.\n\n"
        "Errors are RFC 9457 `application/problem+json` documents with `type`, `title`, "
        "`status`, `detail`, `instance`, and `code` and `errors` where they apply.\n\n"
        "Mutations accept an `Idempotency-Key` header: a retry with the same key "
        "happens once."
    )
    if settings.dev_mail_url and settings.environment != "prod":
        text += f"\n\nIn development, sent email is readable at {settings.dev_mail_url}."
    return text

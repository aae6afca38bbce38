"""`python -m gateway` prepares every route before it listens: afterwards no
request pays for FastAPI's lazy route preparation (it stalled the first
approvals of issue 12's benchmark for seconds)."""

from __future__ import annotations

import fastapi.routing
import pytest
from starlette.routing import Match

from gateway.app import create_app
from gateway.route_warmup import warm_routes
from gateway.settings import GatewaySettings

PATHS = (
    ("POST", "/api/v1/change-orders/8c4f3c52-1111-4a0b-8d1e-1f2a3b4c5d6e/approve"),
    ("GET", "/api/v1/projects"),
    ("GET", "/projects/8c4f3c52-1111-4a0b-8d1e-1f2a3b4c5d6e"),
    ("GET", "/console"),
)


def _match(app, method: str, path: str) -> Match:
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    for route in app.router.routes:
        match, _ = route.matches(dict(scope, query_string=b""))
        if match == Match.FULL:
            return match
    return Match.NONE


def test_no_route_is_prepared_on_a_request_after_the_warm_up(
    settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)
    assert warm_routes(app.router.routes) > 10  # every API area's router, and the pages'
    built: list[object] = []
    prepare = fastapi.routing._IncludedRouter._build_effective_context

    def counting(self, route):
        built.append(route)
        return prepare(self, route)

    monkeypatch.setattr(fastapi.routing._IncludedRouter, "_build_effective_context", counting)
    for method, path in PATHS:
        assert _match(app, method, path) == Match.FULL, path
    assert built == []


def test_even_without_the_warm_up_no_request_prepares_routes(
    settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route gates (gateway/route_gates.py) collect their routes when the
    app is built, which already makes FastAPI prepare them: the warm-up is a
    backstop should the gates change, and the first request pays nothing."""
    app = create_app(settings)
    built: list[object] = []
    prepare = fastapi.routing._IncludedRouter._build_effective_context

    def counting(self, route):
        built.append(route)
        return prepare(self, route)

    monkeypatch.setattr(fastapi.routing._IncludedRouter, "_build_effective_context", counting)
    for method, path in PATHS:
        assert _match(app, method, path) == Match.FULL, path
    assert built == []

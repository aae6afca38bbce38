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


def _prepared_on_requests(app, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The routes FastAPI prepares while matching PATHS."""
    built: list[object] = []
    prepare = fastapi.routing._IncludedRouter._build_effective_context

    def counting(self, route):
        built.append(route)
        return prepare(self, route)

    monkeypatch.setattr(fastapi.routing._IncludedRouter, "_build_effective_context", counting)
    for method, path in PATHS:
        assert _match(app, method, path) == Match.FULL, path
    return built


@pytest.mark.parametrize("warm", [True, False], ids=["warmed", "as-built"])
def test_no_route_is_prepared_on_a_request(
    settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch, warm: bool
) -> None:
    """The route gates (gateway/route_gates.py) collect their routes when the
    app is built, which already makes FastAPI prepare them; the warm-up
    `python -m gateway` runs is a backstop should the gates change. Either
    way the first request pays nothing."""
    app = create_app(settings)
    if warm:
        assert warm_routes(app.router.routes) > 10  # every API area's router, and the pages'
    assert _prepared_on_requests(app, monkeypatch) == []

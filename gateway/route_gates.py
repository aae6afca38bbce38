"""Route gates: a request is matched only against the routes of its own group.

Starlette (and FastAPI's included routers, which match a request once to
choose a route and again to run it, at every level of inclusion) tries the
routes in order until one matches. With the JSON API's ~130 routes before the
pages, the client's board page was matched against all of them first. A
`RouteGate` claims every path under its prefix (`/api/`, `/console`) and
dispatches among its own routes only; any other path costs one `startswith`.

Nothing else changes: inside a gate the routes keep their order (Stripe's
webhook first), an unknown path under the prefix is the same 404, a wrong
method the same 405, a trailing slash the same redirect (an `APIRouter` over
the gate's routes does what the app's router did). `url_path_for` reaches
every route through its gate, and `ungated` keeps the flat list the OpenAPI
document is generated from, so the document does not change.

A gate refuses, at start-up, a route outside its prefix: such a route could
never be reached once its gate claims the prefix's paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send

_ROUTED = frozenset({"http", "websocket"})


class RouteGate(BaseRoute):
    """Every path equal to `prefix` or under `prefix + "/"` (`prefix` without
    its trailing slash), matched against `routes` alone."""

    def __init__(self, prefix: str, routes: Sequence[BaseRoute]) -> None:
        self.prefix = prefix.rstrip("/")
        self._under = self.prefix + "/"
        self.routes = list(routes)
        for context in iter_route_contexts(self.routes):
            path = context.path or ""
            if not self.claims(path):
                raise ValueError(f"route {path!r} is outside its gate {self.prefix!r}")
        self._router = APIRouter(routes=self.routes)

    def claims(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self._under)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in _ROUTED and self.claims(scope["path"]):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._router.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        return self._router.url_path_for(name, **path_params)

    def __repr__(self) -> str:
        return f"RouteGate({self.prefix!r}, {len(self.routes)} routes)"


def gate_routes(
    app: FastAPI, prefixes: Sequence[str], *, ahead: Sequence[str] = ()
) -> list[BaseRoute]:
    """Group the app's routes behind one gate per prefix, in place of the
    first route each gate holds; returns the flat list, for the OpenAPI
    document. A top-level route (an included router, a mount) goes behind
    the gate whose prefix all its paths are under; the others stay as they
    are, in order.

    `ahead`: path prefixes of hot routes, matched before the rest of their
    gate, in this order (see `hoisted`)."""
    ungated = list(app.router.routes)
    groups: dict[str, list[BaseRoute]] = {prefix.rstrip("/"): [] for prefix in prefixes}
    arranged: list[BaseRoute | str] = []
    for route in ungated:
        prefix = _gate_for(route, groups)
        if prefix is None:
            arranged.append(route)
            continue
        if not groups[prefix]:
            arranged.append(prefix)  # the gate takes its first route's place
        groups[prefix].append(route)
    gates = {
        prefix: RouteGate(prefix, hoisted(routes, ahead))
        for prefix, routes in groups.items()
        if routes
    }
    app.router.routes[:] = [gates[r] if isinstance(r, str) else r for r in arranged]
    return ungated


def _gate_for(route: BaseRoute, groups: dict[str, list[BaseRoute]]) -> str | None:
    return next((prefix for prefix in groups if _all_under(route, prefix)), None)


def hoisted(routes: Sequence[BaseRoute], ahead: Sequence[str]) -> list[BaseRoute]:
    """`routes` with those whose paths are all under one of `ahead` first (in
    `ahead`'s order), the others after them in their own order.

    Matching tries routes in order and costs each tried route a few µs (an
    included router matches its every route): `GET /api/v1/projects` was
    tried against the ~33 routes before it (~40 µs of the gateway's CPU per
    request). Moving a route changes no answer only if no route it passes
    can match a path it matches: refused at start-up unless every passed
    route's literal head (its path up to the first parameter) parts from
    the prefix before either ends."""
    arranged = list(routes)
    placed = 0
    for prefix in ahead:
        under = prefix.rstrip("/")
        moving = [r for r in arranged[placed:] if _all_under(r, under)]
        staying = [r for r in arranged[placed:] if not _all_under(r, under)]
        passed = arranged[placed : arranged.index(moving[-1])] if moving else []
        for route in passed:
            for context in iter_route_contexts([route]):
                head = (context.path or "").split("{")[0]
                if route not in moving and (head.startswith(under) or under.startswith(head)):
                    raise ValueError(f"route {context.path!r} could match a path under {under!r}")
        arranged[placed:] = moving + staying
        placed += len(moving)
    return arranged


def _all_under(route: BaseRoute, prefix: str) -> bool:
    paths = [context.path or "" for context in iter_route_contexts([route])]
    return bool(paths) and all(p == prefix or p.startswith(prefix + "/") for p in paths)


class SegmentIndex(BaseRoute):
    """The app's routes, tried only where a path's first segment could match.

    The client's board (`/projects/{id}`) came after the health, calendar,
    theme and console routes and the front door's, the portal's and the
    documents' routers: ~20 routes matched first, ~140 µs of the gateway's
    CPU per page (each included router matches all its routes, twice). A
    route whose every path starts with a literal segment (`/projects/...`,
    a gate's `/api`) can only match paths with that first segment; it is
    listed under it. A route whose first segment is a parameter, or that
    cannot be read (an unknown kind, a frontend's catch-all), is listed
    under every segment. Each list keeps the app's order, so the route that
    answers, a 405's allowed methods and a trailing-slash redirect (the same
    first segment either way) are as before; a path no list holds is not
    claimed, and the app's router answers the 404 itself."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        self._all = APIRouter(routes=self.routes)
        heads = [(route, _heads(route)) for route in self.routes]
        named = {head for _, found in heads if found is not None for head in found}
        self._anywhere = self._router([r for r, found in heads if found is None])
        self._by_head = {
            head: self._router([r for r, found in heads if found is None or head in found])
            for head in named
        }

    @staticmethod
    def _router(routes: list[BaseRoute]) -> APIRouter | None:
        return APIRouter(routes=routes) if routes else None

    def _for(self, scope: Scope) -> APIRouter | None:
        path = get_route_path(scope)
        return self._by_head.get(path[1:].split("/", 1)[0], self._anywhere)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in _ROUTED and self._for(scope) is not None:
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self._for(scope)
        assert router is not None  # matched
        await router.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        return self._all.url_path_for(name, **path_params)

    def __repr__(self) -> str:
        return f"SegmentIndex({len(self.routes)} routes, {len(self._by_head)} segments)"


def index_routes(app: FastAPI) -> None:
    """The app's routes behind one `SegmentIndex` (after `gate_routes`)."""
    if getattr(app.router, "_low_priority_routes", None):
        raise ValueError("a frontend's catch-all routes come after every route: not indexed")
    app.router.routes[:] = [SegmentIndex(app.router.routes)]


def _head(path: str | None) -> str | None:
    """ "/projects/{id}" -> "projects"; None where the first segment is not literal."""
    if not path or not path.startswith("/"):
        return None
    head = path[1:].split("/", 1)[0]
    return None if "{" in head else head


def _heads(route: BaseRoute) -> set[str] | None:
    """The first segments of every path `route` can match, or None: any."""
    if isinstance(route, RouteGate):
        paths: list[str | None] = [route.prefix]
    elif isinstance(route, Mount):
        paths = [route.path]
    elif getattr(getattr(route, "original_router", None), "_low_priority_routes", None):
        return None
    else:
        paths = [context.path for context in iter_route_contexts([route])]
    heads = {_head(path) for path in paths}
    return None if not paths or None in heads else heads  # type: ignore[return-value]

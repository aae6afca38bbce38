"""Route gates (gateway/route_gates.py): a path is matched inside its gate
only, and answers exactly as it did before the routes were gated."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts

from gateway.route_gates import RouteGate, SegmentIndex, gate_routes, hoisted, index_routes


def _app() -> tuple[FastAPI, list]:
    app = FastAPI(openapi_url=None)  # no docs routes of its own
    api = APIRouter(prefix="/api/v1")

    @api.get("/things/{thing_id}", name="get_thing")
    async def get_thing(thing_id: str) -> dict:
        return {"api": thing_id}

    console = APIRouter()

    @console.get("/console", name="console_home")
    async def console_home() -> dict:
        return {"console": True}

    pages = APIRouter()

    @pages.get("/things/{thing_id}", name="thing_page")
    async def thing_page(thing_id: str) -> dict:
        return {"page": thing_id}

    app.include_router(api)
    app.include_router(pages)
    app.include_router(console)
    ungated = gate_routes(app, prefixes=("/api", "/console"))
    return app, ungated


async def _get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


def test_each_group_sits_behind_one_gate_and_the_rest_stay_in_order() -> None:
    app, ungated = _app()
    kinds = [repr(r) if isinstance(r, RouteGate) else "page" for r in app.router.routes]
    assert kinds == ["RouteGate('/api', 1 routes)", "page", "RouteGate('/console', 1 routes)"]
    assert len(ungated) == 3


async def test_a_gated_path_answers_as_before_and_the_others_pass_it_by() -> None:
    app, _ = _app()
    assert (await _get(app, "/api/v1/things/7")).json() == {"api": "7"}
    assert (await _get(app, "/things/7")).json() == {"page": "7"}
    assert (await _get(app, "/console")).json() == {"console": True}


async def test_inside_a_gate_a_miss_is_a_404_a_wrong_method_a_405_a_slash_a_redirect() -> None:
    app, _ = _app()
    assert (await _get(app, "/api/v1/nothing")).status_code == 404
    assert (await _get(app, "/consoles")).status_code == 404  # not the console's gate
    wrong = await _get(app, "/api/v1/things/7", method="POST")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")
    slash = await _get(app, "/api/v1/things/7/")
    assert slash.status_code == 307 and slash.headers["location"].endswith("/api/v1/things/7")


def test_url_path_for_reaches_routes_behind_a_gate() -> None:
    app, _ = _app()
    assert app.url_path_for("get_thing", thing_id="7") == "/api/v1/things/7"
    assert app.url_path_for("console_home") == "/console"
    assert app.url_path_for("thing_page", thing_id="7") == "/things/7"


def test_a_gate_refuses_a_route_outside_its_prefix() -> None:
    router = APIRouter()

    @router.get("/apiary")
    async def apiary() -> None: ...

    with pytest.raises(ValueError, match="/apiary"):
        RouteGate("/api", router.routes)


def _routers(*prefixes: str) -> list:
    app = FastAPI(openapi_url=None)
    for prefix in prefixes:
        router = APIRouter(prefix=prefix)

        @router.get("/{item_id}")
        async def item(item_id: str) -> dict:
            return {"item": item_id}

        app.include_router(router)
    return list(app.router.routes)


def _first_paths(routes: list) -> list[str]:
    return [next(iter_route_contexts([r])).path for r in routes]


def test_hot_routes_go_first_in_the_order_asked_and_the_rest_keep_theirs() -> None:
    routes = _routers("/api/me", "/api/hook", "/api/rooms", "/api/projects")
    arranged = hoisted(routes, ahead=("/api/hook", "/api/projects"))
    assert _first_paths(arranged) == [
        "/api/hook/{item_id}",
        "/api/projects/{item_id}",
        "/api/me/{item_id}",
        "/api/rooms/{item_id}",
    ]


def test_a_hot_route_may_not_pass_one_that_could_match_its_paths() -> None:
    # /api/{kind}/{item_id} matches /api/projects/7 too, and came first.
    with pytest.raises(ValueError, match="could match"):
        hoisted(_routers("/api/{kind}", "/api/projects"), ahead=("/api/projects",))
    after = _routers("/api/projects", "/api/{kind}")  # passes nothing: allowed
    assert hoisted(after, ahead=("/api/projects",)) == after


def _indexed() -> FastAPI:
    """A parameter as the first segment (`/{kind}/...`) may match any path; the
    literal routes around it keep their order."""
    app = FastAPI(openapi_url=None)
    first, anywhere, things = APIRouter(), APIRouter(), APIRouter()

    @first.get("/things/special")
    async def special() -> dict:
        return {"route": "special"}

    @anywhere.get("/{kind}/{item_id}")
    async def any_kind(kind: str, item_id: str) -> dict:
        return {"route": "any", "kind": kind}

    @things.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict:
        return {"route": "thing"}

    @things.post("/others/{other_id}")
    async def other(other_id: str) -> dict:
        return {"route": "other"}

    @things.get("/")
    async def root() -> dict:
        return {"route": "root"}

    for router in (first, anywhere, things):
        app.include_router(router)
    gate_routes(app, prefixes=("/api",))
    index_routes(app)
    return app


async def test_an_indexed_path_is_answered_by_the_same_route_in_the_same_order() -> None:
    app = _indexed()
    assert [type(r).__name__ for r in app.router.routes] == ["SegmentIndex"]
    assert (await _get(app, "/things/special")).json() == {"route": "special"}
    assert (await _get(app, "/things/7")).json() == {"route": "any", "kind": "things"}
    assert (await _get(app, "/others/7", method="POST")).json() == {"route": "other"}
    assert (await _get(app, "/")).json() == {"route": "root"}
    assert (await _get(app, "/unheard/7")).json() == {"route": "any", "kind": "unheard"}
    assert app.url_path_for("thing", thing_id="7") == "/things/7"


async def test_an_indexed_miss_is_a_404_a_wrong_method_a_405_a_slash_a_redirect() -> None:
    app, _ = _app()
    index_routes(app)
    assert (await _get(app, "/nothing")).status_code == 404
    assert (await _get(app, "/things")).status_code == 404
    wrong = await _get(app, "/things/7", method="POST")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")
    slash = await _get(app, "/things/7/")
    assert slash.status_code == 307 and slash.headers["location"].endswith("/things/7")
    assert (await _get(app, "/api/v1/things/7")).json() == {"api": "7"}


def test_the_index_lists_a_route_under_each_first_segment_it_could_match() -> None:
    app = _indexed()
    (index,) = app.router.routes
    assert isinstance(index, SegmentIndex)
    assert sorted(index._by_head) == ["", "others", "things"]
    assert len(index._by_head["things"].routes) == 3  # special, any kind, things'
    assert len(index._anywhere.routes) == 1  # only /{kind}/{item_id}

"""What no service can take is refused at the gateway with a problem naming
where it was, never a 500: a NUL or a control character in any text field of
any JSON route (found by walking every request model, so a new field is
covered the day it is added), a line break where one line belongs, an integer
no protobuf field can carry, a NUL in a query, a path or a header, and the
same in every form of the pages."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, get_args, get_origin

import httpx
import pytest
from fastapi.routing import APIRoute
from portal.bookings.v1 import bookings_pb2, bookings_pb2_grpc
from portal.changeorders.v1 import changeorders_pb2, changeorders_pb2_grpc
from portal.documents.v1 import documents_pb2, documents_pb2_grpc
from portal.payments.v1 import payments_pb2, payments_pb2_grpc
from pydantic import AfterValidator, BaseModel

from deploy.infra import free_port
from gateway import pages
from gateway.api.fields import CHECKS
from gateway.app import create_app
from gateway.settings import GatewaySettings
from services.chassis.auth import generate_keypair
from services.documents.grpc_api import DEADLINE_CEILINGS
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant
from tests.gateway.document_fakes import FOLDER_ID, GUIDE_ID, FakeDocuments
from tests.grpc_service import serve_fake, service_name

PROBLEM = "application/problem+json"
Path = tuple[str | int, ...]


PLATFORM_TOKEN = "platform-operator-token-for-the-probe-0123456789"
STAND_INS: dict[str, str] = {}  # service -> target, for every gateway the module builds


@pytest.fixture(scope="module")
async def services(keypair) -> AsyncIterator[tuple[F.Fakes, str]]:
    fake = FakeDocuments()
    async with (
        serve_fake(
            lambda srv: documents_pb2_grpc.add_DocumentsServiceServicer_to_server(fake, srv),
            service_name(documents_pb2, "DocumentsService"),
            keypair[1],
            deadline_ceilings=DEADLINE_CEILINGS,
        ) as target,
        # Payments and changeorders answer nothing here (UNIMPLEMENTED): every case is refused
        # before a call, and the routes need their backend to get that far.
        serve_fake(
            lambda srv: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(
                payments_pb2_grpc.PaymentsServiceServicer(), srv
            ),
            service_name(payments_pb2, "PaymentsService"),
            keypair[1],
        ) as payments_target,
        serve_fake(
            lambda srv: changeorders_pb2_grpc.add_ChangeOrdersServiceServicer_to_server(
                changeorders_pb2_grpc.ChangeOrdersServiceServicer(), srv
            ),
            service_name(changeorders_pb2, "ChangeOrdersService"),
            keypair[1],
        ) as changeorders_target,
        # Bookings likewise: the dispatch routes and pages refuse before any call.
        serve_fake(
            lambda srv: bookings_pb2_grpc.add_BookingsServiceServicer_to_server(
                bookings_pb2_grpc.BookingsServiceServicer(), srv
            ),
            service_name(bookings_pb2, "BookingsService"),
            keypair[1],
        ) as bookings_target,
        F.fake_services(keypair[1]) as fakes,
    ):
        STAND_INS["payments"] = payments_target
        STAND_INS["changeorders"] = changeorders_target
        STAND_INS["bookings"] = bookings_target
        yield fakes, target


@asynccontextmanager
async def gateway(
    settings: GatewaySettings, services, session: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as `session` says (a session cookie, its CSRF token on every call)."""
    fakes, target = services
    fakes.identity.session = session
    app = create_app(
        settings.model_copy(
            update={
                "identity_target": fakes.identity_target,
                "projects_target": fakes.projects_target,
                "documents_target": target,
                "payments_target": STAND_INS["payments"],
                "changeorders_target": STAND_INS["changeorders"],
                "bookings_target": STAND_INS["bookings"],
                "platform_token": PLATFORM_TOKEN,
                # The module's gateway lives for every case (minutes on a busy
                # machine): its one tenant must not expire from the cache, since
                # the fake identity cannot look it up again.
                "tenant_cache_seconds": 3600.0,
            }
        )
    )
    async with client_with_tenant(
        app, acme(), cookies={"portal_session": "good-session"}
    ) as client:
        client.headers["X-CSRF-Token"] = (await client.get("/api/v1/me")).json()["csrf_token"]
        yield client


@pytest.fixture(scope="module")
async def staff(keypair, services) -> AsyncIterator[httpx.AsyncClient]:
    """One gateway for the module, staff signed in: the cases only send requests."""
    async with gateway(settings_for(keypair[0]), services, F.staff_session()) as client:
        yield client


@pytest.fixture(scope="module")
async def contact(keypair, services) -> AsyncIterator[httpx.AsyncClient]:
    """A client contact's gateway (its own fake identity answers as theirs)."""
    async with F.fake_services(keypair[1]) as theirs:
        _, target = services
        async with gateway(
            settings_for(keypair[0]), (theirs, target), F.client_session()
        ) as client:
            yield client


# -- every text field of every JSON route ------------------------------------------------------


def text_leaves(annotation: Any, metadata: list[Any], path: Path) -> Iterator[tuple[Path, str]]:
    """Each string a request model takes, by its path in the body, and which
    of gateway/api/fields.py's checks it goes through ("" for none)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *more = get_args(annotation)
        yield from text_leaves(inner, [*metadata, *more], path)
    elif annotation is str:
        checks = [m.func for m in metadata if isinstance(m, AfterValidator) and m.func in CHECKS]
        yield path, checks[0].__name__ if checks else ""
    elif origin in (typing.Union, types.UnionType):
        for arg in get_args(annotation):
            yield from text_leaves(arg, metadata, path)
    elif origin is list:
        yield from text_leaves(get_args(annotation)[0], [], (*path, 0))
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            yield from text_leaves(info.annotation, list(info.metadata), (*path, name))
    elif origin is Literal or annotation is type(None):
        return


def settings_for(private_key: str) -> GatewaySettings:
    nobody = f"127.0.0.1:{free_port()}"  # notifications: no route here calls it
    return GatewaySettings(
        _env_file=None,
        environment="test",
        base_domain="localhost",
        identity_target=nobody,
        projects_target=nobody,
        notifications_target=nobody,
        principal_private_key=private_key,
        rpc_timeout_seconds=2.0,
    )


def _models(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)


def json_routes() -> list[tuple[str, str, type[BaseModel]]]:
    """Every route with a JSON body and the model it is read into, from the
    OpenAPI document (the API as served), path parameters filled in."""
    settings = settings_for(generate_keypair()[0])
    models = {m.__name__: m for m in _models(BaseModel) if m.__module__.startswith("gateway.")}
    found = []
    for path, operations in create_app(settings).openapi()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue  # multipart uploads: their fields are the documents service's to check
            ref = next(s["$ref"] for s in [schema, *schema.get("anyOf", [])] if "$ref" in s)
            filled = re.sub(r"\{\w+\}", F.PROJECT_ID, path)
            found.append((method.upper(), filled, models[ref.rsplit("/", 1)[1]]))
    return found


ROUTES = json_routes()
FIELDS = [
    (method, path, leaf, checked)
    for method, path, model in ROUTES
    for leaf, checked in text_leaves(model, [], ())
]
# A password may hold any character a person can type, so only NUL is refused there.
REFUSED = {
    "check_line": (("a\x00b", "NUL"), ("a\x1b[2Jb", "U+001B"), ("a\r\nb", "line break")),
    "check_text": (("a\x00b", "NUL"), ("a\x1b[2Jb", "U+001B")),
    "check_secret": (("a\x00b", "NUL"),),
}


def body_with(path: Path, value: str) -> Any:
    head, *rest = path
    inner = body_with(tuple(rest), value) if rest else value
    return [inner] if isinstance(head, int) else {head: inner}


def dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def test_every_text_field_of_every_request_model_is_checked() -> None:
    assert len(ROUTES) >= 25 and len(FIELDS) >= 40  # the walk found the API
    unchecked = [f"{m} {p} {dotted(leaf)}" for m, p, leaf, checked in FIELDS if not checked]
    assert unchecked == [], "use Line, Text or Secret (gateway/api/fields.py)"


@pytest.mark.parametrize(
    ("method", "path", "leaf", "check"),
    FIELDS,
    ids=[f"{m} {p} {dotted(leaf)}" for m, p, leaf, _ in FIELDS],
)
async def test_a_nul_or_a_control_character_in_any_text_field_is_a_422_naming_it(
    staff: httpx.AsyncClient, method: str, path: str, leaf: Path, check: str
) -> None:
    # The platform API answers on the bare base domain, to the operator's token.
    platform = {"Host": "localhost", "Authorization": f"Bearer {PLATFORM_TOKEN}"}
    headers = platform if path.startswith("/api/v1/platform/") else None
    for value, said in REFUSED[check]:
        r = await staff.request(method, path, json=body_with(leaf, value), headers=headers)
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
        named = [e for e in r.json()["errors"] if e.get("field") == dotted(leaf)]
        assert named and named[0]["in"] == "body", r.json()
        # A short field (a currency code) may refuse it for its length first.
        told = named[0]["message"]
        if said == "NUL" or ("pattern" not in told and "at most" not in told):
            assert said in named[0]["message"], named


# -- integers no protobuf field can carry ------------------------------------------------------

LINE = f"/api/v1/rooms/{F.ROOM_ID}/lines"
PROPOSALS = f"/api/v1/projects/{F.PROJECT_ID}/proposals"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", LINE, {"model": "Arc", "unit_price_minor": 2**63}, "unit_price_minor"),
        ("PATCH", f"/api/v1/lines/{F.LINE_ID}", {"unit_price_minor": 2**64}, "unit_price_minor"),
        ("POST", PROPOSALS, {"title": "Offer", "labour_minor": 2**63}, "labour_minor"),
        ("POST", PROPOSALS, {"title": "Offer", "discount_minor": 10**30}, "discount_minor"),
        ("PUT", "/api/v1/tenant/upload-limit", {"max_upload_bytes": 2**63}, "max_upload_bytes"),
        (
            "PUT",
            "/api/v1/tenant/upload-limit",
            {"max_upload_bytes": -(2**63) - 1},
            "max_upload_bytes",
        ),
        ("POST", "/api/v1/customers", {"name": "A", "contacts": [{"x": 2**70}]}, "contacts.0.x"),
    ],
)
async def test_an_integer_beyond_int64_is_a_422_naming_it_not_a_500(
    staff: httpx.AsyncClient, services, method: str, path: str, body: dict, field: str
) -> None:
    fakes, _ = services
    fakes.projects.calls.clear()
    r = await staff.request(method, path, json=body)
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert field in [e.get("field") for e in r.json()["errors"]], r.json()
    assert fakes.projects.calls == []  # refused before any call was built


# -- query, path and headers -------------------------------------------------------------------


async def test_a_nul_in_a_query_a_path_or_a_header_is_a_422_naming_where(staff):
    query = await staff.get("/api/v1/projects", params={"page_token": "a\x00b"})
    path = await staff.get("/api/v1/projects/%00")
    header = await staff.get("/api/v1/projects", headers={"Idempotency-Key": "k\x00"})
    page = await staff.get("/console/projects", params={"customer_id": "\x00"})
    for r, where, name in (
        (query, "query", "page_token"),
        (path, "path", "project_id"),
        (header, "header", "idempotency-key"),
    ):
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
        (error,) = r.json()["errors"]
        assert (error["in"], error["field"]) == (where, name)
        assert "NUL" in error["message"]
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]


# -- several lines where several belong ------------------------------------------------------


async def test_text_fields_keep_newlines_and_tabs_read_cr_lf_as_one(staff, services):
    fakes, _ = services
    r = await staff.patch(
        f"/api/v1/projects/{F.PROJECT_ID}/stages/install",
        json={"client_note": "Screen wall framed.\r\n\tProjector Tuesday."},
    )
    assert r.status_code == 200, r.text
    ((_, sent, _),) = [c for c in fakes.projects.calls if c[0] == "UpdateStage"][-1:]
    assert sent.client_note == "Screen wall framed.\n\tProjector Tuesday."


# -- every form of the pages ------------------------------------------------------------------


def _page_posts(router: Any) -> Iterator[str]:
    for route in router.routes:
        if isinstance(route, APIRoute):
            if "POST" in route.methods:
                yield route.path
        else:  # an included router
            yield from _page_posts(route.original_router)


PATH_IDS = {
    "project_id": F.PROJECT_ID,
    "proposal_id": F.SENT_ID,
    "document_id": GUIDE_ID,
    "folder_id": FOLDER_ID,
    "customer_id": F.CUSTOMER_ID,
    "contact_id": F.CONTACT_ID,
    "room_id": F.ROOM_ID,
    "line_id": F.LINE_ID,
    "item_id": F.ROOM_ID,
    "stage": "install",
    "kind": "logo",
}
# Upload forms are multipart (their text fields come before the file).
MULTIPART = ("/documents", "/versions", "/console/branding/logo", "/visits/book")
PAGE_POSTS = sorted(
    re.sub(r"\{(\w+)\}", lambda m: PATH_IDS.get(m.group(1), F.OTHER_PROJECT_ID), path)
    for router in (*pages.routers, *pages.console_routers)  # the portal's and the console's
    for path in set(_page_posts(router))
)


def test_the_pages_have_forms_to_check() -> None:
    assert len(PAGE_POSTS) >= 30


@pytest.mark.parametrize("path", PAGE_POSTS)
async def test_a_nul_in_any_form_field_is_a_422_page_naming_it(staff, contact, path):
    """Browsers cannot type a NUL, so only a hand-made request sends one: it is
    told which field, rather than a 500 (a page for staff, or a client's)."""
    fields = {"name": "Cinema", "probe_field": "x\x00y"}
    upload = (
        {"file": ("plan.pdf", b"%PDF-1.4", "application/pdf")} if path.endswith(MULTIPART) else None
    )
    for client in (staff, contact):
        r = await client.post(path, data=fields, files=upload)
        if r.status_code != 303:  # a page for the other kind of person sends them home
            break
    assert r.status_code == 422 and "text/html" in r.headers["content-type"], (path, r.text)
    assert "The probe field field cannot contain a NUL character (U+0000)" in r.text


async def test_a_nul_in_the_sign_in_form_is_told_which_field(settings, keypair) -> None:
    app = create_app(settings)  # nothing but the tenant is needed: no service is asked
    async with client_with_tenant(app, acme()) as client:
        r = await client.post("/sign-in", data={"email": "jane\x00@example.com", "password": "x"})
    assert r.status_code == 422 and "The email field cannot contain a NUL character" in r.text


async def test_a_form_line_refuses_a_line_break_and_a_textarea_keeps_it(staff, services):
    fakes, _ = services
    csrf = {"csrf_token": staff.headers["X-CSRF-Token"]}
    rooms = await staff.post(
        f"/console/projects/{F.PROJECT_ID}/rooms", data={"name": "Den\r\nBcc: x@", **csrf}
    )
    note = await staff.post(
        f"/console/projects/{F.PROJECT_ID}/stages/install",
        data={"client_note": "Framed.\r\nProjector Tuesday.", **csrf},
    )
    assert rooms.status_code == 422 and "The name field cannot contain a line break" in rooms.text
    assert note.status_code == 303, note.text
    ((_, sent, _),) = [c for c in fakes.projects.calls if c[0] == "UpdateStage"][-1:]
    assert sent.client_note == "Framed.\nProjector Tuesday."

"""Request bodies are bounded before they are read (gateway/body_limits.py,
gateway/multipart.py): every body is sent by a generator that counts what the
gateway pulled, so "refused having read nothing" is measured, not assumed.

Against the in-process app, with the fakes of tests/gateway/document_fakes.py
for uploads (served through the chassis: real principals, real gRPC streams)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.body_limits import JSON_LIMIT
from gateway.settings import GatewaySettings
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant, client_without_lifespan
from tests.gateway.document_fakes import GUIDE_ID, Services, gateway, serve_documents

MIB = 1024 * 1024
CHUNK = 64 * 1024
PROBLEM = "application/problem+json"
STAFF = {"Authorization": "Bearer good-token"}
UPLOAD = f"/api/v1/projects/{F.PROJECT_ID}/documents"
BOUNDARY = "edge-test-boundary"


class Body:
    """`total` bytes in 64 KiB chunks, made only as the gateway pulls them."""

    def __init__(self, total: int, *, head: bytes = b"", tail: bytes = b"") -> None:
        self.total, self.head, self.tail = total, head, tail
        self.pulled = 0  # bytes the gateway has asked for

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pulled += len(self.head)
        yield self.head
        left = self.total
        while left > 0:
            size = min(CHUNK, left)
            left -= size
            self.pulled += size
            yield b"%PDF-1.4\n".ljust(size, b"x")
        self.pulled += len(self.tail)
        yield self.tail

    @property
    def finished(self) -> bool:
        return self.pulled >= len(self.head) + self.total + len(self.tail)


def multipart(file_bytes: int, *, before: dict[str, str] | None = None, after: str = "") -> Body:
    """A multipart form: text fields, a file of `file_bytes`, maybe a field after it."""
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (before or {}).items()
    )
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = b"\r\n"
    if after:
        tail += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{after}"\r\n\r\nx\r\n'.encode()
        )
    tail += f"--{BOUNDARY}--\r\n".encode()
    return Body(file_bytes, head=head, tail=tail)


def form_headers(**more: str) -> dict[str, str]:
    return {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **more}


@pytest.fixture
async def services(keypair) -> AsyncIterator[Services]:
    async with serve_documents(keypair[1]) as served:
        yield served


@pytest.fixture
def spooled(monkeypatch) -> list[Any]:
    """Every temporary file opened meanwhile (Starlette spools uploads past 1 MB)."""
    opened: list[Any] = []
    real = tempfile.TemporaryFile

    def recording(*args: Any, **kwargs: Any) -> Any:
        opened.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", recording)
    return opened


def assert_too_large(r: httpx.Response, words: str) -> None:
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == PROBLEM
    assert words in r.json()["detail"], r.json()
    assert r.headers["connection"] == "close"  # the server stops reading what is left


# -- the edge: every body ---------------------------------------------------------------------


async def test_a_body_declared_over_the_ceiling_is_413_before_anything_else_runs(
    settings: GatewaySettings,
) -> None:
    app = create_app(settings)
    json_body, upload = Body(300 * MIB), multipart(300 * MIB)
    # No lifespan, so no tenant cache: a request that got past the edge would fail.
    async with client_without_lifespan(app, host="acme.localhost") as client:
        r = await client.post(
            "/api/v1/auth/sign-in",
            content=json_body,
            headers={"Content-Type": "application/json", "Content-Length": str(300 * MIB)},
        )
        big = await client.post(
            UPLOAD, content=upload, headers=form_headers(**{"Content-Length": str(300 * MIB)})
        )
    assert_too_large(r, "send at most 1 MB")
    assert r.json()["code"] == "body_too_large"
    assert_too_large(big, "files can be at most 200 MB")
    assert big.json()["code"] == "file_too_large"
    assert json_body.pulled == upload.pulled == 0
    assert app.body_limits.refused == 2  # type: ignore[attr-defined]


async def test_a_json_body_declared_over_1_mib_is_413_before_a_byte_is_read(
    settings: GatewaySettings,
) -> None:
    body = Body(200 * MIB)
    headers = {"Content-Type": "application/json", "Content-Length": str(200 * MIB)}
    async with client_with_tenant(create_app(settings), acme()) as client:
        r = await client.post("/api/v1/auth/sign-in", content=body, headers=headers)
    assert_too_large(r, "send at most 1 MB")
    assert body.pulled == 0


@pytest.mark.parametrize("declared", [None, "1000"], ids=["chunked", "lying"])
async def test_a_json_body_is_cut_off_at_1_mib_as_it_streams(
    settings: GatewaySettings, declared: str | None
) -> None:
    body = Body(200 * MIB)
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = declared  # says 1000 bytes, sends 200 MiB
    async with client_with_tenant(create_app(settings), acme()) as client:
        r = await client.post("/api/v1/auth/sign-in", content=body, headers=headers)
    assert_too_large(r, "send at most 1 MB")
    assert body.pulled <= JSON_LIMIT + CHUNK  # the chunk that passed the cap, no more


async def test_a_page_form_over_the_cap_is_a_413_page(settings: GatewaySettings) -> None:
    body = Body(5 * MIB)
    async with client_with_tenant(create_app(settings), acme()) as client:
        r = await client.post(
            "/sign-in",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "send at most 1 MB" in r.text and r.headers["connection"] == "close"
    assert body.pulled <= JSON_LIMIT + CHUNK


async def test_a_small_body_is_read_as_before(settings: GatewaySettings) -> None:
    async with client_with_tenant(create_app(settings), acme()) as client:
        r = await client.post("/api/v1/auth/sign-in", json={"email": "x"})
    assert r.status_code == 422  # validated, not refused for its size
    assert "connection" not in r.headers  # read to its end: the connection may be reused


# -- uploads: authenticated before the body is read ------------------------------------------


@pytest.mark.parametrize(
    "who, headers, status",
    [
        ("nobody", {}, 401),
        ("a cookie session without its CSRF header", {}, 403),
        ("a client contact", {"X-CSRF-Token": "x"}, 403),
    ],
)
async def test_an_upload_not_allowed_is_refused_having_read_none_of_it(
    settings, services, spooled, who: str, headers: dict[str, str], status: int
) -> None:
    session = F.client_session() if who == "a client contact" else F.staff_session()
    body = multipart(300 * MIB)  # chunked: nothing says how big until it is read
    async with gateway(settings, services, session) as client:
        if who == "nobody":
            client.cookies.clear()  # no session cookie, no token
        r = await client.post(UPLOAD, content=body, headers=form_headers(**headers))
    assert r.status_code == status, r.text
    assert r.headers["connection"] == "close"
    assert body.pulled == 0 and spooled == []
    assert services[1].uploads == []


# -- uploads: the integrator's limit, while the file streams ---------------------------------


async def test_a_staff_upload_over_the_limit_stops_there_with_413_and_stores_nothing(
    settings, services, spooled
) -> None:
    services[1].limit = 256 * 1024
    body = multipart(50 * MIB, before={"title": "Too big"})
    async with gateway(settings, services, F.staff_session()) as client:
        r = await client.post(UPLOAD, content=body, headers=form_headers(**STAFF))
    assert_too_large(r, "files can be at most 256 KB")
    assert r.json()["code"] == "file_too_large"
    # Stopped at the limit, give or take what gRPC had in flight; never read to the end.
    assert body.pulled < 256 * 1024 + 3 * CHUNK and not body.finished
    assert services[1].uploads == [] and spooled == []
    # Ended with a message documents refuses, not cancelled: a server can read a
    # cancelled stream's end as the file's end, and keep what it got.
    assert services[1].aborted == 1


async def test_a_staff_upload_within_the_limit_streams_without_spooling(
    settings, services, spooled
) -> None:
    body = multipart(3 * MIB, before={"title": "Wiring", "client_visible": "true"})
    async with gateway(settings, services, F.staff_session()) as client:
        r = await client.post(UPLOAD, content=body, headers=form_headers(**STAFF))
    assert r.status_code == 201, r.text
    assert body.finished and spooled == []  # straight through: no temporary file
    (header, data, sizes, _), *_ = services[1].uploads
    assert (header.title, header.client_visible, header.filename) == ("Wiring", True, "big.pdf")
    assert len(data) == 3 * MIB and max(sizes) == CHUNK


async def test_the_console_says_the_limit_and_stops_a_file_over_it(settings, services) -> None:
    services[1].limit = 128 * 1024
    page_url = f"/console/projects/{F.PROJECT_ID}/documents"
    async with gateway(settings, services, F.staff_session()) as client:
        page = await client.get(page_url)
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        body = multipart(10 * MIB, before={"csrf_token": token, "title": "Big"})
        r = await client.post(page_url, content=body, headers=form_headers())
        shown = await client.get(r.headers["location"])
    assert "At most 128 KB." in page.text
    assert page.text.index('name="title"') < page.text.index('name="file"')  # fields first
    assert r.status_code == 303 and "files can be at most 128 KB" in shown.text
    # Signed-in staff's browser: the rest is read and dropped, so it sees the answer.
    assert body.finished and "connection" not in r.headers
    assert services[1].uploads == [] and services[1].aborted == 1


async def test_an_anonymous_console_upload_is_sent_away_having_read_none_of_it(
    settings, services
) -> None:
    body = multipart(300 * MIB)
    async with gateway(settings, services, F.staff_session()) as client:
        client.cookies.clear()
        r = await client.post(
            f"/console/projects/{F.PROJECT_ID}/documents", content=body, headers=form_headers()
        )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert r.headers["connection"] == "close" and body.pulled == 0


@pytest.mark.parametrize(
    "body, headers, status, words",
    [
        (multipart(1000, after="title"), form_headers(**STAFF), 422, "nothing may follow it"),
        (Body(10), {"Content-Type": "application/pdf", **STAFF}, 415, "multipart/form-data"),
        (
            multipart(10, before={"title": "t" * 20_000}),
            form_headers(**STAFF),
            422,
            "'title' is too long",
        ),
        (multipart(10, before={"folder_id": "nope"}), form_headers(**STAFF), 422, "folder_id"),
    ],
    ids=["a field after the file", "not multipart", "a huge field", "a bad folder id"],
)
async def test_a_malformed_upload_is_refused_and_stores_nothing(
    settings, services, body: Body, headers: dict[str, str], status: int, words: str
) -> None:
    async with gateway(settings, services, F.staff_session()) as client:
        r = await client.post(UPLOAD, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM and words in r.text
    assert services[1].uploads == []


async def test_a_new_version_over_the_limit_is_stopped_too(settings, services) -> None:
    services[1].limit = 64 * 1024
    body = multipart(5 * MIB)
    async with gateway(settings, services, F.staff_session()) as client:
        r = await client.post(
            f"/api/v1/documents/{GUIDE_ID}/versions", content=body, headers=form_headers(**STAFF)
        )
    assert_too_large(r, "files can be at most 64 KB")
    assert not body.finished and services[1].uploads == []

"""Request bodies against the real suite (uvicorn, documents, PostgreSQL): a
body over its limit is refused while the client is still sending it, the
connection is closed rather than held to read the rest, the gateway's memory
does not grow with it, and an upload stopped at the integrator's limit leaves
no document, no blob row and no blob file behind.

Bodies are chunked and made by a generator as httpx sends them, so "refused
before the body was read" is measured: how much of it the client had sent
when the server closed (the kernel's socket buffers hold a few MiB of it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

import deploy.suite
from tests.suite import Running, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        "documents" not in deploy.suite.SERVICES, reason="the suite has no documents service"
    ),
]
MIB = 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "e2e-limits"
IN_FLIGHT = 16 * MIB  # more than loopback's socket buffers hold, far less than the bodies


@dataclass
class Sent:
    """A body made only as the client sends it: how much it sent, of how much."""

    total: int
    head: bytes = b""
    pulled: int = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.head:
            yield self.head
        while self.pulled < self.total:
            piece = b"%PDF-1.4\n".ljust(min(CHUNK, self.total - self.pulled), b"x")
            self.pulled += len(piece)
            yield piece


async def post_streaming(running: Running, path: str, body: Sent, **headers: str) -> httpx.Response:
    """POST a chunked body, as curl or requests would: once sending fails (the
    server closed), the answer is read from what had arrived. (An asyncio
    client loses it: its transport drops unread data on a write error.)"""

    def send() -> httpx.Response:
        with httpx.Client(base_url=running.suite.gateway_url, timeout=60, trust_env=False) as c:
            return c.post(path, content=body, headers={**running.headers(token=False), **headers})

    return await asyncio.to_thread(send)


async def ask_only(running: Running, path: str, headers: dict[str, str]) -> bytes:
    """Send the request's head alone (no body) and read the answer."""
    host, port = running.suite.gateway_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"POST {path} HTTP/1.1", f"Host: {running.info['demo_host']}"]
    writer.write(
        ("\r\n".join([*lines, *(f"{k}: {v}" for k, v in headers.items())]) + "\r\n\r\n").encode()
    )
    try:
        return await asyncio.wait_for(reader.read(), 30)  # to the close
    finally:
        writer.close()


def form_head(**fields: str) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    return "".join(parts).encode()


FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def rss(running: Running) -> int:
    """The gateway process's resident memory, in bytes."""
    pid = running.suite.children["gateway"].proc.pid  # type: ignore[union-attr]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def assert_cut_off(r: httpx.Response, body: Sent) -> None:
    """Answered, the connection closed and the body not read to its end."""
    assert r.headers.get("connection") == "close", r.headers
    assert body.pulled < body.total - IN_FLIGHT, f"sent {body.pulled} of {body.total}"


async def test_an_anonymous_300_mib_upload_is_401_while_it_is_still_being_sent(
    running: Running,
) -> None:
    path = f"/api/v1/projects/{running.info['demo_project_id']}/documents"
    body = Sent(300 * MIB, head=form_head(title="Nobody's"))
    r = await post_streaming(running, path, body, **FORM)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "missing_token"
    assert_cut_off(r, body)


async def test_a_200_mib_json_body_is_413_without_the_gateway_growing(running: Running) -> None:
    before = rss(running)
    body = Sent(200 * MIB)
    json_type = {"Content-Type": "application/json"}
    r = await post_streaming(running, "/api/v1/auth/sign-in", body, **json_type)
    grew = rss(running) - before
    assert r.status_code == 413, r.text
    assert "send at most 1 MB" in r.json()["detail"]
    assert_cut_off(r, body)
    assert grew < 32 * MIB, f"the gateway grew by {grew / MIB:.0f} MiB"


async def test_a_json_body_declared_too_large_is_refused_before_it_is_sent(
    running: Running,
) -> None:
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(200 * MIB),
        "Expect": "100-continue",  # the client waits for a go-ahead: it never comes
    }
    answer = (await ask_only(running, "/api/v1/auth/sign-in", headers)).decode()
    assert answer.startswith("HTTP/1.1 413 "), answer
    assert "100 Continue" not in answer and "connection: close" in answer.lower()
    assert '"code":"body_too_large"' in answer


async def _stored(running: Running) -> tuple[int, int, int, int]:
    """Documents, versions and blob rows (all tenants, as the superuser), and blob files."""
    url = running.suite.postgres.admin_url.rsplit("/", 1)[0] + "/documents"
    db = await asyncpg.connect(url)
    try:
        rows = [
            await db.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("document", "document_version", "blob")
        ]
    finally:
        await db.close()
    files = sum(1 for p in (running.data_dir / "blobs").rglob("*") if p.is_file())
    return rows[0], rows[1], rows[2], files


async def test_a_staff_upload_over_the_limit_stops_at_it_and_stores_nothing(
    running: Running, gw: httpx.AsyncClient
) -> None:
    headers = running.headers()
    ceiling = (await gw.get("/api/v1/tenant/upload-limit", headers=headers)).json()
    r = await gw.put(
        "/api/v1/tenant/upload-limit", headers=headers, json={"max_upload_bytes": 1 * MIB}
    )
    assert r.status_code == 200, r.text
    before = await _stored(running)
    body = Sent(100 * MIB, head=form_head(title="Too big"))
    try:
        path = f"/api/v1/projects/{running.info['demo_project_id']}/documents"
        auth = {"Authorization": headers["Authorization"], **FORM}
        too_big = await post_streaming(running, path, body, **auth)
    finally:
        await gw.put(
            "/api/v1/tenant/upload-limit",
            headers=headers,
            json={"max_upload_bytes": ceiling["ceiling_bytes"]},
        )
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["detail"] == "The file is too large: files can be at most 1 MB."
    assert too_big.json()["code"] == "file_too_large"
    assert_cut_off(too_big, body)

    async def back_to_before() -> bool:  # documents deletes the partial blob as it refuses
        return await _stored(running) == before

    await wait_for(back_to_before, timeout=10)

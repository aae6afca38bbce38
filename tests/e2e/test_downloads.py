"""Downloads through the whole suite (gateway -> documents over gRPC ->
chunked AES-GCM blobs on disk): every Range answer carries exactly the bytes
its headers declare, the connection survives each, and a client's link dies
with their customer's portal."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest

import deploy.suite
from tests.e2e.test_documents_portal import client_browser, upload
from tests.e2e.test_front_door import change_access, signed_in_contact
from tests.suite import Running, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        "documents" not in deploy.suite.SERVICES, reason="the suite has no documents service"
    ),
]
PROBLEM = "application/problem+json"
FIVE_THOUSAND_DIGITS = "7" * 5000


def random_pdf(size: int) -> bytes:
    # Random bytes, so a slice from the wrong offset cannot look right.
    return (b"%PDF-1.7\n" + os.urandom(size))[:size]


async def test_every_range_answer_is_exactly_the_bytes_it_declares(
    running: Running, gw: httpx.AsyncClient
) -> None:
    data = random_pdf(150_000)  # three 64 KiB chunks
    size = len(data)
    tag = uuid.uuid4().hex[:6]
    doc = await upload(
        gw,
        running,
        running.info["demo_project_id"],
        title=f"Range check {tag}",
        client_visible="true",
        filename=f"range-{tag}.pdf",
        content=data,
    )
    async with await client_browser(running) as jane:
        made = await jane.api("POST", f"/api/v1/documents/{doc['id']}/download-link")
        assert made.status_code == 200, made.text
    url = made.json()["url"].replace("/d/", "/api/v1/downloads/")
    host = {"Host": running.host}

    partial = {
        "bytes=0-0": (0, 1),
        "bytes=0-9": (0, 10),
        "bytes=-5": (size - 5, 5),
        "bytes=5-": (5, size - 5),
        f"bytes={size - 1}-{size - 1}": (size - 1, 1),  # the last byte
        f"bytes={size - 1}-": (size - 1, 1),
        "bytes=65535-65536": (65_535, 2),  # across a chunk boundary
        f"bytes={size - 10}-{size + 1000}": (size - 10, 10),  # past the end: to the end
        f"bytes=0-{FIVE_THOUSAND_DIGITS}": (0, size),
        f"bytes=-{FIVE_THOUSAND_DIGITS}": (0, size),
    }
    for header, (offset, length) in partial.items():
        r = await gw.get(url, headers=host | {"Range": header})
        assert r.status_code == 206, (header, r.status_code, r.text[:200])
        assert r.content == data[offset : offset + length], header
        assert r.headers["content-length"] == str(length), header
        assert r.headers["content-range"] == f"bytes {offset}-{offset + length - 1}/{size}"

    # Ignored (not one valid range): the whole file.
    for header in ("bytes=10-5", "bytes=0-0,5-9", "bytes=a-b", "items=0-1"):
        r = await gw.get(url, headers=host | {"Range": header})
        assert (r.status_code, r.content) == (200, data), header
        assert r.headers["content-length"] == str(size) and "content-range" not in r.headers

    # Starting past the end: 416 and where the end is, whatever the number's length.
    for header in (
        f"bytes={size}-",
        "bytes=99999999999999999999999999999-",
        f"bytes={FIVE_THOUSAND_DIGITS}-",
        "bytes=-0",
    ):
        r = await gw.get(url, headers=host | {"Range": header})
        assert r.status_code == 416, (header, r.status_code)
        assert r.headers["content-range"] == f"bytes */{size}"
        assert r.headers["content-type"] == PROBLEM and r.json()["code"] == "range_not_satisfiable"

    # HEAD: the headers a GET would send, no body.
    whole = await gw.head(url, headers=host)
    assert (whole.status_code, whole.content) == (200, b"")
    assert whole.headers["content-length"] == str(size)
    assert whole.headers["accept-ranges"] == "bytes"
    one = await gw.head(url, headers=host | {"Range": "bytes=0-0"})
    assert (one.status_code, one.content) == (206, b"")
    assert one.headers["content-range"] == f"bytes 0-0/{size}"
    assert one.headers["content-length"] == "1"
    page = await gw.head(made.json()["url"], headers=host)
    assert page.status_code == 200 and page.headers["content-length"] == str(size)

    # The connection outlived all of that: the whole file still streams.
    r = await gw.get(made.json()["url"], headers=host)
    assert (r.status_code, r.content) == (200, data)


async def test_a_clients_link_stops_working_when_the_customer_is_deleted(
    running: Running, gw: httpx.AsyncClient, mail: httpx.AsyncClient
) -> None:
    browser, customer_id, _ = await signed_in_contact(running, gw, mail)
    tag = uuid.uuid4().hex[:6]
    created = await gw.post(
        "/api/v1/projects",
        headers=running.headers(),
        json={"name": f"Den {tag}", "customer_id": customer_id, "site_address": "2 Lane"},
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    data = random_pdf(20_000)
    marker = data[100:140]

    async def uploaded() -> dict | None:
        # Documents hears of the project from projects' event; until then, 409.
        r = await gw.post(
            f"/api/v1/projects/{project_id}/documents",
            headers=running.headers(),
            data={"title": f"Manual {tag}", "client_visible": "true"},
            files={"file": (f"manual-{tag}.pdf", data, "application/pdf")},
        )
        assert r.status_code in (201, 409), r.text
        return r.json() if r.status_code == 201 else None

    doc = await wait_for(uploaded, timeout=20)
    async with browser:
        made = await browser.api("POST", f"/api/v1/documents/{doc['id']}/download-link")
        assert made.status_code == 200, made.text
        link = made.json()["url"]
        assert (await browser.get(link)).content == data

        await change_access(running, gw, customer_id, "deleted")
        api_link = link.replace("/d/", "/api/v1/downloads/")

        async def refused() -> httpx.Response | None:
            # The holder's browser (its session ended) and a bare request alike.
            r = await browser.get(api_link)
            assert r.status_code in (200, 403), r.status_code
            return r if r.status_code == 403 else None

        gone = await wait_for(refused, timeout=20)
        bare = await gw.get(api_link, headers={"Host": running.host, "Range": "bytes=0-0"})
        page = await gw.get(link, headers={"Host": running.host})
        head = await gw.head(api_link, headers={"Host": running.host})
    # 403, the one answer for every link that no longer works (forged,
    # expired, or its holder's portal closed): a link says nothing of why.
    assert gone.headers["content-type"] == PROBLEM
    assert gone.json()["code"] == "download_link_invalid"
    assert bare.status_code == page.status_code == head.status_code == 403
    for r in (gone, bare, page, head):
        assert marker not in r.content and "content-disposition" not in r.headers

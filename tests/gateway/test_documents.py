"""Documents through the gateway against in-process fakes of the documents
service (tests/gateway/document_fakes.py) and of identity and projects:
uploads streamed in chunks, downloads streamed with Range, refusals as
problem+json. The fakes show a client what the real services show them
(tests/contracts holds them to it): the gateway renders what it is given.

The documents fake is served through the chassis (real interceptor and
principal verification, documents' declared deadline ceilings)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway import files
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme
from tests.gateway.document_fakes import (
    FOLDER_ID,
    GUIDE_BYTES,
    GUIDE_ID,
    SCHEMATIC_ID,
    Services,
    gateway,
    serve_documents,
)

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PROBLEM = "application/problem+json"
STAFF = {"Authorization": "Bearer good-token"}


@pytest.fixture
async def services(keypair) -> AsyncIterator[Services]:
    async with serve_documents(keypair[1]) as served:
        yield served


async def link_for(client: httpx.AsyncClient, doc_id: str, **kw: Any) -> str:
    r = await client.post(
        f"/api/v1/documents/{doc_id}/download-link",
        headers={"X-CSRF-Token": await _csrf(client)},
        **kw,
    )
    assert r.status_code == 200, r.text
    return r.json()["url"]


# -- a client ---------------------------------------------------------------------------------


async def test_what_documents_refuses_a_client_is_a_404_problem_and_never_linked(
    settings, services
) -> None:
    async with gateway(settings, services) as client:
        listed = await client.get(f"/api/v1/projects/{F.PROJECT_ID}/documents")
        hidden = await client.get(f"/api/v1/documents/{SCHEMATIC_ID}")
        link = await client.post(
            f"/api/v1/documents/{SCHEMATIC_ID}/download-link",
            headers={"X-CSRF-Token": await _csrf(client)},
        )
        page = await client.get(f"/projects/{F.PROJECT_ID}/documents")
        via_page = await client.get(f"/projects/{F.PROJECT_ID}/documents/{SCHEMATIC_ID}/download")
        shown = await client.get(f"/api/v1/documents/{GUIDE_ID}")
    assert listed.status_code == 200
    assert [d["title"] for d in listed.json()["documents"]] == ["Handover guide"]
    assert listed.json()["documents"][0]["versions"] == []  # documents gives a client none
    assert shown.json()["current"]["uploaded_by"] is None  # the API shows staff ids to staff
    assert hidden.status_code == link.status_code == via_page.status_code == 404
    assert hidden.headers["content-type"] == PROBLEM
    assert page.status_code == 200
    assert "Handover guide" in page.text and "Rack schematic" not in page.text
    assert SCHEMATIC_ID not in page.text
    assert f"/projects/{F.PROJECT_ID}/documents/{GUIDE_ID}/download" in page.text
    assert "Handover" in page.text  # the folder chip
    _, fake, _ = services
    assert [r.document_id for r in fake.links] == []  # documents issued none


async def test_a_client_downloads_through_a_short_lived_link(settings, services) -> None:
    async with gateway(settings, services) as client:
        r = await client.get(f"/projects/{F.PROJECT_ID}/documents/{GUIDE_ID}/download")
        assert r.status_code == 303 and r.headers["location"].startswith("/d/")
        got = await client.get(r.headers["location"])
    assert got.status_code == 200
    assert got.content == GUIDE_BYTES
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-length"] == str(len(GUIDE_BYTES))
    assert got.headers["accept-ranges"] == "bytes"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, no-store"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"Guide _ u.pdf\"; filename*=UTF-8''Guide%20%E2%80%93%20%C3%BC.pdf"
    )
    _, fake, _ = services
    assert fake.reads[-1].token == f"tok-{GUIDE_ID}" and not fake.reads[-1].has_range


async def test_a_range_answers_206_with_exactly_those_bytes(settings, services) -> None:
    size = len(GUIDE_BYTES)
    async with gateway(settings, services) as client:
        url = await link_for(client, GUIDE_ID)
        middle = await client.get(url, headers={"Range": "bytes=150-449"})
        tail = await client.get(url, headers={"Range": "bytes=-10"})
        rest = await client.get(url, headers={"Range": f"bytes={size - 3}-"})
        past = await client.get(url, headers={"Range": f"bytes={size}-"})
        api = await client.get(
            url.replace("/d/", "/api/v1/downloads/"), headers={"Range": "bytes=0-8"}
        )
    assert middle.status_code == 206
    assert middle.content == GUIDE_BYTES[150:450]
    assert middle.headers["content-range"] == f"bytes 150-449/{size}"
    assert middle.headers["content-length"] == "300"
    assert (tail.status_code, tail.content) == (206, GUIDE_BYTES[-10:])
    assert (rest.status_code, rest.content) == (206, GUIDE_BYTES[-3:])
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"
    assert (api.status_code, api.content) == (206, b"%PDF-1.4\n")
    _, fake, _ = services
    assert (fake.reads[0].offset, fake.reads[0].length) == (150, 300)
    assert len(fake.reads) == 4  # the 416 was answered without reading


async def test_bytes_0_0_is_one_byte_and_head_sends_no_body(settings, services) -> None:
    size = len(GUIDE_BYTES)
    async with gateway(settings, services) as client:
        url = await link_for(client, GUIDE_ID)
        one = await client.get(url, headers={"Range": "bytes=0-0"})
        head = await client.head(url, headers={"Range": "bytes=-5"})
        several = await client.get(url, headers={"Range": "bytes=0-0,5-9"})
        huge = await client.get(url, headers={"Range": "bytes=" + "9" * 5000 + "-"})
    assert (one.status_code, one.content) == (206, GUIDE_BYTES[:1])
    assert one.headers["content-range"] == f"bytes 0-0/{size}"
    assert one.headers["content-length"] == "1"
    assert head.status_code == 206 and head.content == b""
    assert head.headers["content-length"] == "5"
    assert head.headers["content-range"] == f"bytes {size - 5}-{size - 1}/{size}"
    assert (several.status_code, several.content) == (200, GUIDE_BYTES)
    assert huge.status_code == 416 and huge.headers["content-range"] == f"bytes */{size}"
    _, fake, _ = services
    assert [(r.offset, r.length) for r in fake.reads] == [(0, 1), (size - 5, 5), (0, 0)]


async def test_a_forged_or_refused_link_is_403_without_detail(settings, services) -> None:
    async with gateway(settings, services) as client:
        url = await link_for(client, GUIDE_ID)
        forged_page = await client.get("/d/forged.token")
        forged_api = await client.get("/api/v1/downloads/" + url[3:-2] + "AA")
        # Sealed by this gateway, but the service refuses its token.
        sealed = files.seal_link(
            settings.csrf_secret,
            files.DownloadLink("expired", acme().id, "x.pdf", "application/pdf", 10, 0),
        )
        refused = await client.get(f"/api/v1/downloads/{sealed}")
    assert forged_page.status_code == forged_api.status_code == refused.status_code == 403
    assert forged_api.headers["content-type"] == refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "download_link_invalid"
    assert "secret detail" not in refused.text
    _, fake, _ = services
    assert [r.token for r in fake.reads] == ["expired"]  # forged ones never reached it


async def test_a_client_may_not_ask_for_an_old_version(settings, services) -> None:
    async with gateway(settings, services) as client:
        r = await client.post(
            f"/api/v1/documents/{GUIDE_ID}/download-link",
            json={"version_id": GUIDE_ID[:-1] + "8"},  # version 1
            headers={"X-CSRF-Token": await _csrf(client)},
        )
    assert r.status_code == 404


async def _csrf(client: httpx.AsyncClient) -> str:
    match = CSRF_FIELD.search((await client.get(f"/projects/{F.PROJECT_ID}/documents")).text)
    assert match
    return match.group(1)


# -- staff --------------------------------------------------------------------------------------


async def test_staff_upload_is_streamed_in_64_kib_chunks(settings, services) -> None:
    payload = b"%PDF-1.4\n" + b"x" * (200 * 1024)
    async with gateway(settings, services, F.staff_session()) as client:
        r = await client.post(
            f"/api/v1/projects/{F.PROJECT_ID}/documents",
            headers=STAFF,
            data={"title": "Rack schematic", "client_visible": "false", "folder_id": FOLDER_ID},
            files={"file": ("rack/../schematic.pdf", payload, "application/pdf")},
        )
        version = await client.post(
            f"/api/v1/documents/{GUIDE_ID}/versions",
            headers=STAFF,
            files={"file": ("guide-v3.pdf", b"%PDF-1.4\nv3", "application/pdf")},
        )
    assert r.status_code == 201, r.text
    assert version.status_code == 201, version.text
    _, fake, _ = services
    (header, data, sizes, who), (v_header, v_data, _, _) = fake.uploads
    assert data == payload
    assert max(sizes) <= 64 * 1024 and len(sizes) == 4
    assert (header.project_id, header.folder_id, header.title) == (
        F.PROJECT_ID,
        FOLDER_ID,
        "Rack schematic",
    )
    assert header.filename == "schematic.pdf" and not header.client_visible
    # Streamed as it arrives, the size is not known ahead: counted on the way instead.
    assert header.declared_size == 0 and header.request_id
    assert who.kind == "staff" and who.subject == F.STAFF_ID
    assert (v_header.document_id, v_header.filename, v_data) == (
        GUIDE_ID,
        "guide-v3.pdf",
        b"%PDF-1.4\nv3",
    )


async def test_documents_own_file_too_large_mid_stream_is_413(settings, services) -> None:
    """The gateway stops a file at the limit it was told (tests/gateway/test_body_limits.py);
    documents holds it to its own as well, and its refusal maps by the code alone."""
    services[1].enforced = 10
    async with gateway(settings, services, F.staff_session()) as client:
        r = await client.post(
            f"/api/v1/projects/{F.PROJECT_ID}/documents",
            headers=STAFF,
            files={"file": ("big.pdf", b"y" * 100, "application/pdf")},
        )
    assert r.status_code == 413
    assert r.json()["detail"] == "Over this portal's limit of 1 KB."
    assert r.json()["code"] == "file_too_large"


async def test_a_cookie_upload_needs_the_csrf_header(settings, services) -> None:
    async with gateway(settings, services, F.staff_session()) as client:
        r = await client.post(
            f"/api/v1/projects/{F.PROJECT_ID}/documents",
            files={"file": ("a.pdf", b"%PDF", "application/pdf")},
        )
    assert r.status_code == 403 and r.json()["code"] == "csrf_token_invalid"
    assert services[1].uploads == []


async def test_the_console_uploads_toggles_and_offers_old_versions(settings, services) -> None:
    page_url = f"/console/projects/{F.PROJECT_ID}/documents"
    async with gateway(settings, services, F.staff_session()) as client:
        page = await client.get(page_url)
        token = CSRF_FIELD.search(page.text).group(1)  # type: ignore[union-attr]
        uploaded = await client.post(
            page_url,
            data={"csrf_token": token, "title": "Wiring", "client_visible": "1"},
            files={"file": ("wiring.pdf", b"%PDF-1.4\nwiring", "application/pdf")},
        )
        no_csrf = await client.post(
            page_url, files={"file": ("wiring.pdf", b"%PDF", "application/pdf")}
        )
        old = await client.get(
            f"{page_url}/{GUIDE_ID}/download", params={"version_id": GUIDE_ID[:-1] + "8"}
        )
    assert page.status_code == 200
    assert "Rack schematic" in page.text and "Hidden from client" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert f"{page_url}/{SCHEMATIC_ID}/visibility" in page.text
    assert "Version history (2)" in page.text
    assert uploaded.status_code == 303 and "Wiring is uploaded" not in uploaded.headers["location"]
    assert no_csrf.status_code == 403
    assert old.status_code == 303 and old.headers["location"].startswith("/d/")
    _, fake, _ = services
    assert len(fake.uploads) == 1 and fake.uploads[0][0].client_visible
    assert fake.links[-1].version_id == GUIDE_ID[:-1] + "8"


async def test_without_a_documents_target_the_routes_answer_503(settings, services) -> None:
    async with gateway(settings, services, documents=False) as client:
        api = await client.get(f"/api/v1/projects/{F.PROJECT_ID}/documents")
        page = await client.get(f"/projects/{F.PROJECT_ID}/documents")
    assert api.status_code == page.status_code == 503
    assert api.json()["code"] == "documents_unavailable"

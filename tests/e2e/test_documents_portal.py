"""Documents in the portal, every process separate: staff upload an internal
schematic and a client-visible handover guide through the gateway (multipart,
streamed to the documents service); the demo client lists and downloads only
the guide, a Range request answers 206 with exactly those bytes, and a forged
link is refused.

What the client must never get, whatever id they ask for: the schematic, in a
list, as metadata, or as a download link."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid

import httpx
import pytest
from pypdf import PdfReader

import deploy.suite
from tests.e2e.test_front_door import Browser
from tests.suite import Running, wait_for

pytestmark = [
    pytest.mark.e2e,
    # Only until the documents service is part of the suite (deploy/suite.py).
    pytest.mark.skipif(
        "documents" not in deploy.suite.SERVICES, reason="the suite has no documents service"
    ),
]
PROBLEM = "application/problem+json"
CLIENT_EMAIL = "jane.harrison@example.com"


def pdf(label: str, size: int = 0) -> bytes:
    """A small, valid-looking PDF, padded to `size` bytes with a comment."""
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"% " + label.encode() + b"\n"
    )
    tail = b"trailer<</Root 1 0 R>>\n%%EOF\n"
    padding = max(0, size - len(body) - len(tail))
    return body + b"%" + bytes(65 + i % 26 for i in range(padding)) + b"\n" + tail


async def upload(
    gw: httpx.AsyncClient, running: Running, project_id: str, **form: str | bytes
) -> dict:
    content = form.pop("content")
    filename = str(form.pop("filename"))
    r = await gw.post(
        f"/api/v1/projects/{project_id}/documents",
        headers=running.headers(),
        data=form,
        files={"file": (filename, content, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def client_browser(running: Running, email: str = CLIENT_EMAIL) -> Browser:
    """A browser signed in as one of the demo customer's contacts."""
    login = next(c for c in running.info["client_logins"] if c["email"] == email)
    browser = Browser(running)
    r = await browser.client.post(
        "/api/v1/auth/sign-in", json={"email": email, "password": login["password"]}
    )
    assert r.status_code == 200, r.text
    return browser


async def test_a_client_sees_and_downloads_only_what_staff_shared(
    running: Running, gw: httpx.AsyncClient
) -> None:
    project_id = running.info["demo_project_id"]
    tag = uuid.uuid4().hex[:6]
    schematic_bytes = pdf(f"rack schematic {tag}", 2_000)
    guide_bytes = pdf(f"handover guide {tag}", 150_000)  # several 64 KiB chunks
    schematic = await upload(
        gw,
        running,
        project_id,
        title=f"Rack schematic {tag}",
        description="Internal wiring; not for the client.",
        client_visible="false",
        filename=f"rack-{tag}.pdf",
        content=schematic_bytes,
    )
    guide = await upload(
        gw,
        running,
        project_id,
        title=f"Handover guide {tag}",
        description="How to use your new system.",
        client_visible="true",
        filename=f"Handover guide \u2013 {tag}.pdf",
        content=guide_bytes,
    )
    assert not schematic["client_visible"] and guide["client_visible"]
    assert guide["current"]["size_bytes"] == len(guide_bytes)
    assert guide["current"]["sha256"] == hashlib.sha256(guide_bytes).hexdigest()

    # Staff see both.
    staff_list = await gw.get(f"/api/v1/projects/{project_id}/documents", headers=running.headers())
    staff_ids = {d["id"] for d in staff_list.json()["documents"]}
    assert {schematic["id"], guide["id"]} <= staff_ids

    async with await client_browser(running) as jane:
        listed = await jane.get(f"/api/v1/projects/{project_id}/documents")
        assert listed.status_code == 200, listed.text
        ids = {d["id"] for d in listed.json()["documents"]}
        assert guide["id"] in ids and schematic["id"] not in ids
        searched = await jane.get(
            f"/api/v1/projects/{project_id}/documents", params={"q": "schematic " + tag}
        )
        assert schematic["id"] not in {d["id"] for d in searched.json()["documents"]}

        # The schematic, by id: not found, as metadata and as a link.
        meta = await jane.get(f"/api/v1/documents/{schematic['id']}")
        link = await jane.api("POST", f"/api/v1/documents/{schematic['id']}/download-link")
        via_page = await jane.get(f"/projects/{project_id}/documents/{schematic['id']}/download")
        assert meta.status_code == link.status_code == via_page.status_code == 404
        assert meta.headers["content-type"] == link.headers["content-type"] == PROBLEM

        # The page lists the guide only.
        page = await jane.get(f"/projects/{project_id}/documents")
        assert page.status_code == 200
        assert f"Handover guide {tag}" in page.text
        assert f"Rack schematic {tag}" not in page.text and schematic["id"] not in page.text

        # The guide downloads whole, from the page's link...
        go = await jane.get(f"/projects/{project_id}/documents/{guide['id']}/download")
        assert go.status_code == 303 and go.headers["location"].startswith("/d/")
        whole = await jane.get(go.headers["location"])
        assert whole.status_code == 200
        assert whole.content == guide_bytes
        assert whole.headers["content-type"] == "application/pdf"
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["cache-control"] == "private, no-store"
        assert whole.headers["x-content-type-options"] == "nosniff"
        disposition = whole.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=")
        assert "filename*=UTF-8''Handover%20guide%20%E2%80%93%20" in disposition

        # ... and in ranges, through the API's link.
        made = await jane.api("POST", f"/api/v1/documents/{guide['id']}/download-link")
        assert made.status_code == 200, made.text
        url = made.json()["url"]
        part = await jane.get(url, headers={"Range": "bytes=70000-70099"})
        assert part.status_code == 206
        assert part.content == guide_bytes[70000:70100]
        assert part.headers["content-range"] == f"bytes 70000-70099/{len(guide_bytes)}"
        last = await jane.get(
            url.replace("/d/", "/api/v1/downloads/"), headers={"Range": "bytes=-14"}
        )
        assert (last.status_code, last.content) == (206, guide_bytes[-14:])
        past = await jane.get(url, headers={"Range": f"bytes={len(guide_bytes)}-"})
        assert past.status_code == 416

        # Forged links: refused, saying nothing.
        token = made.json()["token"]
        for forged in ("forged", token[:-4] + "AAAA", "x" + token):
            for prefix in ("/d/", "/api/v1/downloads/"):
                r = await jane.get(prefix + forged)
                assert r.status_code in (403, 404), (prefix, r.status_code)
        api_forged = await jane.get("/api/v1/downloads/" + token[:-4] + "AAAA")
        assert api_forged.headers["content-type"] == PROBLEM


async def test_staff_hide_delete_and_restore_reach_the_client(
    running: Running, gw: httpx.AsyncClient
) -> None:
    project_id = running.info["demo_project_id"]
    tag = uuid.uuid4().hex[:6]
    doc = await upload(
        gw,
        running,
        project_id,
        title=f"Warranty {tag}",
        client_visible="true",
        filename=f"warranty-{tag}.pdf",
        content=pdf(f"warranty {tag}"),
    )
    staff = running.headers()

    async with await client_browser(running) as jane:

        async def jane_sees() -> bool:
            r = await jane.get(f"/api/v1/projects/{project_id}/documents")
            return doc["id"] in {d["id"] for d in r.json()["documents"]}

        assert await jane_sees()
        hidden = await gw.post(
            f"/api/v1/documents/{doc['id']}/visibility",
            headers=staff,
            json={"client_visible": False},
        )
        assert hidden.status_code == 200 and not hidden.json()["client_visible"]
        assert not await jane_sees()
        assert (await jane.get(f"/api/v1/documents/{doc['id']}")).status_code == 404

        shown = await gw.post(
            f"/api/v1/documents/{doc['id']}/visibility",
            headers=staff,
            json={"client_visible": True},
        )
        assert shown.status_code == 200
        renamed = await gw.patch(
            f"/api/v1/documents/{doc['id']}", headers=staff, json={"title": f"Warranty card {tag}"}
        )
        assert renamed.status_code == 200 and renamed.json()["title"] == f"Warranty card {tag}"
        assert renamed.json()["description"] == doc["description"]

        deleted = await gw.delete(f"/api/v1/documents/{doc['id']}", headers=staff)
        assert deleted.status_code == 204
        assert not await jane_sees()
        restored = await gw.post(f"/api/v1/documents/{doc['id']}/restore", headers=staff)
        assert restored.status_code == 200
        assert await jane_sees()

    version = await gw.post(
        f"/api/v1/documents/{doc['id']}/versions",
        headers=staff,
        files={"file": (f"warranty-{tag}-v2.pdf", pdf("v2"), "application/pdf")},
    )
    assert version.status_code == 201, version.text
    versions = version.json()["versions"]
    assert [v["number"] for v in versions][:2] == [2, 1]
    old = await gw.post(
        f"/api/v1/documents/{doc['id']}/download-link",
        headers=staff,
        json={"version_id": versions[1]["id"]},
    )
    assert old.status_code == 200, old.text
    got = await gw.get(old.json()["url"], headers=staff)
    assert got.status_code == 200 and got.content == pdf(f"warranty {tag}")


async def test_the_signed_proposal_is_filed_in_the_clients_documents(running: Running, gw):
    """Projects files the signed copy of an accepted proposal in documents,
    client-visible, in the Proposals folder: the seeded proposal Jane signed."""
    project_id = running.info["demo_project_id"]

    async def filed():
        async with await client_browser(running) as jane:
            r = await jane.get(f"/api/v1/projects/{project_id}/documents")
            assert r.status_code == 200, r.text
            found = [d for d in r.json()["documents"] if d["title"].startswith("Signed proposal")]
            if not found:
                return None
            link = await jane.api("POST", f"/api/v1/documents/{found[0]['id']}/download-link")
            assert link.status_code == 200, link.text
            got = await jane.get(link.json()["url"])
            assert got.status_code == 200, got.text
            return found[0], link.json(), got.content

    document, link, content = await wait_for(filed, timeout=30)
    assert document["title"] == "Signed proposal v2"
    assert document["current"]["content_type"] == "application/pdf"
    assert link["filename"].endswith("-proposal-v2-signed.pdf")
    # The copy projects filed wears the letterhead the acceptance carried.
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    for expected in (
        "Acme Home Cinema & Automation",
        "418 Hudson Street",
        "jane.harrison@example.com",
    ):
        assert expected in text, expected


async def test_an_owner_sets_the_upload_limit_and_uploads_over_it_get_a_clear_413(
    running: Running, gw
):
    headers = running.headers()
    limit = await gw.get("/api/v1/tenant/upload-limit", headers=headers)
    assert limit.status_code == 200, limit.text
    ceiling = limit.json()["ceiling_bytes"]
    try:
        r = await gw.put(
            "/api/v1/tenant/upload-limit", headers=headers, json={"max_upload_bytes": 128 * 1024}
        )
        assert r.status_code == 200 and r.json()["max_upload_bytes"] == 128 * 1024

        # Blocking: the 413 may come before the whole file is sent, and an
        # asyncio client loses an answer that arrives while it is still writing.
        def send() -> httpx.Response:
            with httpx.Client(base_url=running.suite.gateway_url, timeout=60, trust_env=False) as c:
                return c.post(
                    f"/api/v1/projects/{running.info['demo_project_id']}/documents",
                    headers=headers,
                    files={"file": ("big.pdf", pdf("big", 200 * 1024), "application/pdf")},
                    data={"title": "Too big", "client_visible": "false"},
                )

        too_big = await asyncio.to_thread(send)
        assert too_big.status_code == 413, too_big.text
        assert "128 KB" in too_big.json()["detail"]
    finally:
        await gw.put(
            "/api/v1/tenant/upload-limit", headers=headers, json={"max_upload_bytes": ceiling}
        )

"""The client's documents in a real browser, on a phone and on a desktop: staff
share two documents (in folders) and keep two internal, one in a folder of its
own; the client opens the project's documents from the board, sees only the
folders holding something for them, filters by folder, searches by title and
downloads a file.

Screenshots: tests/screenshots/documents-390.png, documents-1280.png."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

import deploy.suite
from tests.browser.conftest import PASSWORD, Suite, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        "documents" not in deploy.suite.SERVICES, reason="the suite has no documents service"
    ),
]


def _ok(response) -> dict:
    assert response.is_success, response.text
    return response.json() if response.content else {}


def _pdf(label: str, size: int) -> bytes:
    head = b"%PDF-1.4\n% " + label.encode() + b"\n"
    return head + b"%" + b"x" * max(0, size - len(head) - 8) + b"\n%%EOF\n"


def share_documents(suite: Suite, customer_id: str) -> dict:
    api = suite.api
    project = _ok(
        api.post(
            "/api/v1/projects",
            json={"name": "Home cinema & whole-home audio", "customer_id": customer_id},
        )
    )
    pid = project["id"]
    # Documents learns of a new project from its event: wait for it. It may
    # come with folders already; add what is missing.
    deadline = time.monotonic() + 20
    while (listed := api.get(f"/api/v1/projects/{pid}/folders")).status_code == 409:
        assert time.monotonic() < deadline, listed.text
        time.sleep(0.1)
    folders = {f["name"]: f for f in _ok(listed)["folders"]}
    for name in ("Handover", "Drawings", "Site survey"):
        if name not in folders:
            folders[name] = _ok(api.post(f"/api/v1/projects/{pid}/folders", json={"name": name}))
    handover, drawings, survey = folders["Handover"], folders["Drawings"], folders["Site survey"]
    for title, folder, visible, filename, size in (
        ("Handover guide", handover, True, "Handover guide.pdf", 182_000),
        ("Cinema room layout", drawings, True, "Cinema layout \u2013 rev C.pdf", 1_450_000),
        ("Internal rack schematic", drawings, False, "rack.pdf", 9_000),
        # A folder holding only internal files: the client never sees its name.
        ("Survey photos", survey, False, "survey.pdf", 5_000),
    ):
        _ok(
            api.post(
                f"/api/v1/projects/{pid}/documents",
                data={
                    "title": title,
                    "folder_id": folder["id"],
                    "client_visible": "true" if visible else "false",
                    "description": "How to use the system day to day." if visible else "",
                },
                files={"file": (filename, _pdf(title, size), "application/pdf")},
            )
        )
    return project


def test_a_client_finds_and_downloads_their_documents(page: Page, suite: Suite) -> None:
    customer_id, _, link = suite.invited_contact("viewer")
    project = share_documents(suite, customer_id)
    width = page.viewport_size["width"]

    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}$"))

    page.get_by_role("link", name="Documents").first.click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}/documents$"))
    expect(page.get_by_role("heading", name="Documents", level=1)).to_be_visible()
    expect(page.get_by_text("Handover guide", exact=True)).to_be_visible()
    expect(page.get_by_text("Cinema room layout", exact=True)).to_be_visible()
    expect(page.get_by_text("Internal rack schematic")).to_have_count(0)
    expect(page.get_by_text("1.4 MB")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    folders = page.get_by_role("navigation", name="Folders")
    # Only folders holding something for the client: not the internal survey,
    # nor the empty default folders (Proposals, Schematics, Manuals).
    expect(folders.get_by_role("link")).to_have_text(["All", "Handover", "Drawings"])
    expect(page.get_by_text("Site survey")).to_have_count(0)
    shot(page, "documents")

    folders.get_by_role("link", name="Drawings").click()
    expect(page.get_by_text("Cinema room layout", exact=True)).to_be_visible()
    expect(page.get_by_text("Handover guide", exact=True)).to_have_count(0)

    page.get_by_label("Search by title").fill("guide")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No documents match.")).to_be_visible()
    page.get_by_role("link", name="All", exact=True).click()
    page.get_by_label("Search by title").fill("guide")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Handover guide", exact=True)).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download\W+Handover guide$")).click()
    assert download.value.suggested_filename == "Handover guide.pdf"


def test_staff_upload_share_and_version_from_the_console(
    page: Page, suite: Suite, tmp_path
) -> None:
    customer_id, _, _ = suite.invited_contact("approver")
    project = share_documents(suite, customer_id)
    info = suite.running.info
    page.goto(suite.base + "/")
    page.get_by_label("Email address").fill(info["staff_email"])
    page.get_by_label("Password").fill(suite.staff_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console$"))

    page.goto(suite.base + f"/console/projects/{project['id']}")
    page.get_by_role("link", name="Documents").last.click()
    expect(page).to_have_url(re.compile(rf"/console/projects/{project['id']}/documents$"))

    wiring = tmp_path / "Wiring \u2013 schedule.pdf"
    wiring.write_bytes(_pdf("wiring", 70_000))
    upload = page.get_by_role("region", name="Upload a document")
    upload.get_by_label("File").set_input_files(str(wiring))
    upload.get_by_label("Title").fill("Wiring schedule")
    upload.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Wiring schedule is uploaded.")).to_be_visible()
    card = page.get_by_role("region", name="Wiring schedule")
    expect(card.get_by_text("Hidden from client")).to_be_visible()

    card.get_by_role("button", name=re.compile("^Show to client")).click()
    expect(page.get_by_text("The client now sees Wiring schedule.")).to_be_visible()
    card = page.get_by_role("region", name="Wiring schedule")
    expect(card.get_by_text("Client sees it")).to_be_visible()

    v2 = tmp_path / "wiring-v2.pdf"
    v2.write_bytes(_pdf("wiring v2", 1_000))
    card.get_by_text("Upload a new version").click()
    card.get_by_label("File").set_input_files(str(v2))
    card.get_by_role("button", name="Upload version").click()
    expect(page.get_by_text("A new version of Wiring schedule is uploaded.")).to_be_visible()
    card = page.get_by_role("region", name="Wiring schedule")
    card.get_by_text("Version history (2)").click()
    with page.expect_download() as download:
        card.get_by_role("link", name="Download version 1").click()
    assert download.value.suggested_filename == "Wiring \u2013 schedule.pdf"
    assert download.value.path().read_bytes() == _pdf("wiring", 70_000)
    shot(page, "documents-console")


def test_the_console_stops_a_file_over_the_limit_and_says_so(
    page: Page, suite: Suite, tmp_path
) -> None:
    """Chromium is still sending when the gateway answers (303, then it closes
    the connection): the browser follows the redirect and shows why."""
    customer_id, _, _ = suite.invited_contact("approver")
    project = share_documents(suite, customer_id)
    ceiling = _ok(suite.api.get("/api/v1/tenant/upload-limit"))["ceiling_bytes"]
    _ok(suite.api.put("/api/v1/tenant/upload-limit", json={"max_upload_bytes": 256 * 1024}))
    try:
        page.goto(suite.base + "/")
        page.get_by_label("Email address").fill(suite.running.info["staff_email"])
        page.get_by_label("Password").fill(suite.staff_password())
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/console$"))
        page.goto(suite.base + f"/console/projects/{project['id']}/documents")
        upload = page.get_by_role("region", name="Upload a document")
        expect(upload.get_by_text("At most 256 KB.")).to_be_visible()
        big = tmp_path / "site survey.pdf"
        big.write_bytes(_pdf("survey", 40 * 1024 * 1024))
        upload.get_by_label("Title").fill("Site survey")
        upload.get_by_label("File").set_input_files(str(big))
        upload.get_by_role("button", name="Upload").click()
        expect(page.get_by_text("files can be at most 256 KB")).to_be_visible()
        shot(page, "documents-console-too-large")
    finally:
        _ok(suite.api.put("/api/v1/tenant/upload-limit", json={"max_upload_bytes": ceiling}))
    titles = [
        d["title"]
        for d in _ok(suite.api.get(f"/api/v1/projects/{project['id']}/documents"))["documents"]
    ]
    assert "Site survey" not in titles

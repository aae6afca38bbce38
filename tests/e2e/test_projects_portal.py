"""Projects in the portal, every process separate: staff build a project (rooms,
products, a proposal) through the API; its client sees the status board and the
proposal, and accepts it with a signature; the signed PDF downloads.

What a client must never get, whatever id they ask for: a hidden room or
product line, another customer's project, a draft proposal. Each is checked
through the JSON API, the pages, and (for the service's own enforcement)
projects directly over gRPC with the client's principal."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from dataclasses import dataclass

import grpc
import httpx
import pytest
from markupsafe import escape
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc
from pypdf import PdfReader

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.e2e.test_front_door import (
    Browser,
    invite,
    link_for,
    new_customer,
    newest_mail_id,
    staff_browser,
)
from tests.suite import Running

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery staple 42"


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field"
    return match.group(1)


@dataclass
class Built:
    """A customer's project as staff built it, and their contacts signed in."""

    tag: str
    customer_id: str
    contacts: list[dict]
    project: dict
    room: dict
    hidden_room: dict
    line: dict
    hidden_line: dict
    sent: dict
    draft: dict
    browsers: dict[str, Browser]

    @property
    def secrets(self) -> tuple[str, ...]:
        """What only staff may see."""
        return (
            self.hidden_room["name"],
            self.hidden_room["id"],
            self.hidden_line["model"],
            self.hidden_line["id"],
            f"RACK-{self.tag}",
        )


async def staff(gw: httpx.AsyncClient, running: Running, method: str, path: str, **kw):
    r = await gw.request(method, path, headers=running.headers(), **kw)
    assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


async def signed_in(running, gw, mail, customer_id: str, contact: dict) -> Browser:
    before = await newest_mail_id(mail)
    await invite(running, gw, customer_id, contact["id"])
    browser = Browser(running)
    done = await browser.follow(
        await link_for(mail, contact["email"], after=before), password=PASSWORD
    )
    assert done.status_code == 303, done.text
    return browser


async def build(running, gw, mail, *roles: str) -> Built:
    tag = uuid.uuid4().hex[:6]
    customer_id, contacts = await new_customer(running, gw, *roles)
    project = await staff(
        gw,
        running,
        "POST",
        "/api/v1/projects",
        json={"name": f"Cinema & bar? {tag}", "customer_id": customer_id, "site_address": "1 Rd"},
    )
    pid = project["id"]
    project = await staff(
        gw,
        running,
        "PATCH",
        f"/api/v1/projects/{pid}",
        json={"project_manager_name": "Sam Lee", "project_manager_email": "sam@acme-av.example"},
    )
    rooms = f"/api/v1/projects/{pid}/rooms"
    room = await staff(gw, running, "POST", rooms, json={"name": f"Cinema {tag}"})
    hidden_room = await staff(
        gw, running, "POST", rooms, json={"name": f"Rack room {tag}", "client_visible": False}
    )
    line = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/rooms/{room['id']}/lines",
        json={
            "manufacturer": "Sony",
            "model": "VPL-XW5000",
            "description": "4K laser projector",
            "quantity": 1,
            "unit_price_minor": 599_900,
        },
    )
    hidden_line = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/rooms/{room['id']}/lines",
        json={
            "model": f"SECRET-{tag}",
            "description": "margin cable",
            "quantity": 10,
            "unit_price_minor": 1_000,
            "client_visible": False,
        },
    )
    await staff(
        gw,
        running,
        "POST",
        f"/api/v1/rooms/{hidden_room['id']}/lines",
        json={"model": f"RACK-{tag}", "quantity": 1, "unit_price_minor": 250_000},
    )
    proposals = f"/api/v1/projects/{pid}/proposals"
    first = await staff(
        gw,
        running,
        "POST",
        proposals,
        json={"title": "Proposal", "labour_minor": 150_000, "tax_rate_bps": 825},
    )
    sent = await staff(gw, running, "POST", f"/api/v1/proposals/{first['id']}/send")
    draft = await staff(gw, running, "POST", proposals, json={"title": f"Draft {tag}"})
    browsers = {c["role"]: await signed_in(running, gw, mail, customer_id, c) for c in contacts}
    return Built(
        tag,
        customer_id,
        contacts,
        project,
        room,
        hidden_room,
        line,
        hidden_line,
        sent,
        draft,
        browsers,
    )


async def as_client(running: Running, built: Built, role: str, method: str, request):
    """Projects itself, called with the client's principal (no gateway in between)."""
    contact = next(c for c in built.contacts if c["role"] == role)
    principal = Principal(
        kind="client",
        subject=contact["id"],
        tenant_id=running.info["tenant_id"],
        customer_id=built.customer_id,
        roles=frozenset({role}),
    )
    call = Caller(PrincipalSigner(running.suite.private_key))
    async with open_channel(running.suite.target("projects")) as channel:
        stub = projects_pb2_grpc.ProjectsServiceStub(channel)
        return await call(getattr(stub, method), request, principal)


@pytest.fixture(scope="module")
async def built(running):
    """One customer (an approver and a viewer, signed in) and their project,
    shared by the tests that only look."""
    async with (
        httpx.AsyncClient(base_url=running.suite.gateway_url, timeout=15, trust_env=False) as gw,
        httpx.AsyncClient(base_url=running.suite.mail_url, timeout=5, trust_env=False) as mail,
    ):
        b = await build(running, gw, mail, "approver", "viewer")
    yield b
    for browser in b.browsers.values():
        await browser.client.aclose()


# -- what a client sees ----------------------------------------------------------------------


async def test_a_client_with_one_project_lands_on_its_status_board(built):
    client = built.browsers["approver"]
    pid = built.project["id"]
    for path in ("/home", "/projects"):
        r = await client.get(path)
        assert (r.status_code, r.headers["location"]) == (303, f"/projects/{pid}")
    board = await client.get(f"/projects/{pid}")
    assert board.status_code == 200
    html = board.text
    assert html.count('class="track-step') == 5 and 'aria-current="step"' in html
    assert "Waiting on you" in html and f'href="/projects/{pid}/proposal"' in html
    contact = re.search(r'href="(mailto:[^"]+)"', html)
    assert contact and contact.group(1).startswith(
        "mailto:sam@acme-av.example?subject=Cinema%20%26"
    )
    assert f"%28{built.project['reference']}%29" in contact.group(1)


async def test_hidden_rooms_and_lines_never_reach_the_client(built, running):
    client = built.browsers["approver"]
    pid = built.project["id"]
    rooms = await client.get(f"/api/v1/projects/{pid}/rooms")
    assert rooms.status_code == 200, rooms.text
    assert [r["name"] for r in rooms.json()["rooms"]] == [built.room["name"]]
    assert [x["model"] for x in rooms.json()["rooms"][0]["lines"]] == ["VPL-XW5000"]
    proposal = await client.get(f"/api/v1/proposals/{built.sent['id']}")
    assert proposal.status_code == 200, proposal.text
    room, *others = proposal.json()["rooms"]
    assert room["name"] == built.room["name"]
    assert [x["description"] for x in room["lines"]] == ["Sony VPL-XW5000 - 4K laser projector"]
    assert room["other_items"]["amount_minor"] == 10_000  # counted, not itemised
    # A hidden room's amount is counted too, under a name that gives nothing away.
    assert [(o["name"], o["lines"]) for o in others] == [("Other items", [])]
    pages = [
        await client.get(path)
        for path in (
            f"/projects/{pid}",
            f"/projects/{pid}/proposal",
            f"/projects/{pid}/proposal/{built.sent['id']}",
        )
    ]
    for response in [rooms, proposal, *pages, await client.get(f"/api/v1/projects/{pid}/board")]:
        assert response.status_code == 200
        for secret in built.secrets:
            assert secret not in response.text, (secret, str(response.url))
    # Projects enforces it itself, not only the gateway.
    listed = await as_client(
        running, built, "approver", "ListRooms", ppb.ListRoomsRequest(project_id=pid)
    )
    assert [r.name for r in listed.rooms] == [built.room["name"]]
    assert [x.model for x in listed.rooms[0].lines] == ["VPL-XW5000"]


async def test_staff_see_every_room_and_line(built, running, gw):
    rooms = await staff(gw, running, "GET", f"/api/v1/projects/{built.project['id']}/rooms")
    names = [r["name"] for r in rooms["rooms"]]
    assert built.hidden_room["name"] in names
    models = [x["model"] for r in rooms["rooms"] for x in r["lines"]]
    assert f"SECRET-{built.tag}" in models and f"RACK-{built.tag}" in models


async def test_a_draft_proposal_is_not_found_for_the_client_by_any_route(built, running):
    client = built.browsers["approver"]
    pid, draft_id = built.project["id"], built.draft["id"]
    listed = await client.get(f"/api/v1/projects/{pid}/proposals")
    assert [p["status"] for p in listed.json()["proposals"]] == ["sent"]
    for path in (
        f"/api/v1/proposals/{draft_id}",
        f"/api/v1/proposals/{draft_id}/pdf",
        f"/projects/{pid}/proposal/{draft_id}",
        f"/projects/{pid}/proposal/{draft_id}/pdf",
    ):
        r = await client.get(path)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
        assert f"Draft {built.tag}" not in r.text
    accept = await client.api(
        "POST",
        f"/api/v1/proposals/{draft_id}/accept",
        {"signer_name": "Pat", "consent": True, "content_sha256": "0" * 64},
    )
    assert accept.status_code == 404
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await as_client(
            running, built, "approver", "GetProposal", ppb.GetProposalRequest(proposal_id=draft_id)
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_another_customers_project_is_not_found(built, running, gw, mail):
    other_id, (contact,) = await new_customer(running, gw, "approver")
    async with await signed_in(running, gw, mail, other_id, contact) as stranger:
        listed = await stranger.get("/api/v1/projects")
        assert listed.status_code == 200 and listed.json()["projects"] == []
        pid, sent = built.project["id"], built.sent["id"]
        for path in (
            f"/api/v1/projects/{pid}",
            f"/api/v1/projects/{pid}/board",
            f"/api/v1/projects/{pid}/rooms",
            f"/api/v1/projects/{pid}/proposals",
            f"/api/v1/proposals/{sent}",
            f"/api/v1/proposals/{sent}/pdf",
            f"/projects/{pid}",
            f"/projects/{pid}/proposal",
            f"/projects/{pid}/proposal/{sent}",
        ):
            r = await stranger.get(path)
            assert r.status_code == 404, (path, r.status_code)
            assert built.project["name"] not in r.text
            if path.startswith("/api/"):
                assert r.headers["content-type"] == PROBLEM
        accept = await stranger.api(
            "POST",
            f"/api/v1/proposals/{sent}/accept",
            {"signer_name": "Eve", "consent": True, "content_sha256": built.sent["content_sha256"]},
        )
        assert accept.status_code == 404


async def test_a_viewer_reads_the_proposal_but_cannot_accept_it(built):
    viewer = built.browsers["viewer"]
    pid = built.project["id"]
    page = await viewer.get(f"/projects/{pid}/proposal")
    assert page.status_code == 200
    assert "Only an approver can accept" in page.text and 'name="signer_name"' not in page.text
    r = await viewer.api(
        "POST",
        f"/api/v1/proposals/{built.sent['id']}/accept",
        {"signer_name": "Tom", "consent": True, "content_sha256": built.sent["content_sha256"]},
    )
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM


# -- accepting ----------------------------------------------------------------------------


async def test_the_approver_accepts_once_with_consent_and_downloads_the_signed_pdf(
    running, gw, mail
):
    b = await build(running, gw, mail, "approver")
    client = b.browsers["approver"]
    pid, sent_id, sha = b.project["id"], b.sent["id"], b.sent["content_sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", sha)
    accept = f"/api/v1/proposals/{sent_id}/accept"
    page = await client.get(f"/projects/{pid}/proposal")
    html = page.text
    consent = str(escape(b.sent["consent_text"]))
    assert consent and html.index(consent) < html.index('name="signer_name"')
    assert f'name="content_sha256" value="{sha}"' in html

    async def post(body: dict, key: str | None = None) -> httpx.Response:
        headers = {"X-CSRF-Token": await client.csrf()}
        if key:
            headers["Idempotency-Key"] = key
        return await client.client.post(accept, json=body, headers=headers)

    body = {"signer_name": "Pat Approver", "consent": True, "content_sha256": sha}
    no_consent = await post(body | {"consent": False})
    assert no_consent.status_code == 422, no_consent.text
    tampered = await post(body | {"content_sha256": "f" * 64})
    assert tampered.status_code == 409, tampered.text
    assert tampered.headers["content-type"] == PROBLEM

    done = await post(body, key=f"sign-{b.tag}")
    assert done.status_code == 200, done.text
    signed = done.json()
    assert signed["status"] == "accepted"
    signature = signed["signature"]
    assert signature["signer_name"] == "Pat Approver"
    assert signature["content_sha256"] == sha and signature["consent_text"]
    assert signature["ip"] == "127.0.0.1" and signature["user_agent"].startswith("python-httpx")
    again = await post(body, key=f"sign-{b.tag}")
    assert again.status_code == 200 and again.json()["signature"] == signature
    twice = await post(body, key=f"other-{b.tag}")
    assert twice.status_code == 409, twice.text

    pdf = await client.get(f"/api/v1/proposals/{sent_id}/pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment; filename=")
    assert pdf.content.startswith(b"%PDF")
    # In the demo integrator's letterhead, naming the client and the signer's email.
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    customer = await staff(gw, running, "GET", f"/api/v1/customers/{b.customer_id}")
    approver = next(c for c in b.contacts if c["role"] == "approver")
    for expected in (
        "Acme Home Cinema & Automation",
        "New York, NY 10014",
        "studio@acme-av.example",
        customer["name"],
        "Pat Approver",
        approver["email"],
    ):
        assert expected in text, expected
    page_pdf = await client.get(f"/projects/{pid}/proposal/{sent_id}/pdf")
    assert page_pdf.status_code == 200 and page_pdf.content.startswith(b"%PDF")

    board = (await client.get(f"/api/v1/projects/{pid}/board")).json()
    assert board["budget"]["accepted_proposal_id"] == sent_id
    assert board["budget"]["contract_value"]["amount_minor"] == signed["total"]["amount_minor"]
    assert not [w for w in board["waiting_on"] if w["kind"] == "proposal_to_accept"]
    shown = await client.get(f"/projects/{pid}/proposal")
    assert "Signed and accepted" in shown.text and "Download signed PDF" in shown.text
    await client.client.aclose()


async def test_signing_on_the_page_posts_the_hash_shown(running, gw, mail):
    b = await build(running, gw, mail, "approver")
    client = b.browsers["approver"]
    pid, sent_id = b.project["id"], b.sent["id"]
    page = (await client.get(f"/projects/{pid}/proposal")).text
    form = {name: field(page, name) for name in ("csrf_token", "request_id", "content_sha256")}
    missing = await client.client.post(f"/projects/{pid}/proposal/{sent_id}/accept", data=form)
    assert missing.status_code == 422 and "Type your full name to sign." in missing.text
    r = await client.client.post(
        f"/projects/{pid}/proposal/{sent_id}/accept",
        data=form | {"signer_name": "Pat Approver", "consent": "1"},
    )
    # Accept & pay: signing leads to the deposit (tests/browser/test_payments.py follows it).
    assert (r.status_code, r.headers["location"]) == (303, f"/projects/{pid}/deposit")
    shown = await client.get(f"/projects/{pid}/proposal/{sent_id}")
    assert "Signed and accepted" in shown.text and "Pat Approver" in shown.text
    await client.client.aclose()


# -- staff ----------------------------------------------------------------------------------


async def test_staff_edit_stages_rooms_lines_and_proposals_through_the_api(built, running, gw):
    pid = built.project["id"]
    stage = await staff(
        gw,
        running,
        "PATCH",
        f"/api/v1/projects/{pid}/stages/design",
        json={"planned_start": "2026-01-05", "planned_finish": "2026-01-30", "client_note": "Hi"},
    )
    assert (stage["planned_start"], stage["client_note"]) == ("2026-01-05", "Hi")
    kept = await staff(
        gw, running, "PATCH", f"/api/v1/projects/{pid}/stages/design", json={"client_note": "Yo"}
    )
    assert kept["planned_finish"] == "2026-01-30" and kept["client_note"] == "Yo"
    moved = await staff(
        gw, running, "POST", f"/api/v1/projects/{pid}/stage", json={"stage": "install"}
    )
    assert moved["stage"] == "install"
    back = await gw.post(
        f"/api/v1/projects/{pid}/stage", headers=running.headers(), json={"stage": "design"}
    )
    assert back.status_code == 422, back.text  # moving back needs a reason
    await staff(
        gw,
        running,
        "POST",
        f"/api/v1/projects/{pid}/stage",
        json={"stage": "procurement", "reason": "Parts on back-order", "client_note": "Soon."},
    )
    history = await staff(gw, running, "GET", f"/api/v1/projects/{pid}/stage-history")
    assert "Parts on back-order" in [c["reason"] for c in history["changes"]]
    # The client sees the note, never the reason.
    board = await built.browsers["approver"].get(f"/api/v1/projects/{pid}/board")
    assert "Soon." in board.text and "Parts on back-order" not in board.text

    room = await staff(
        gw,
        running,
        "PATCH",
        f"/api/v1/rooms/{built.room['id']}",
        json={"name": f"Cinema {built.tag}", "client_visible": True},
    )
    assert room["name"] == f"Cinema {built.tag}"
    spare = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/rooms/{built.room['id']}/lines",
        json={"model": "SPARE", "quantity": 2, "unit_price_minor": 1_500},
    )
    changed = await staff(
        gw,
        running,
        "PATCH",
        f"/api/v1/lines/{spare['id']}",
        json={"model": "SPARE", "quantity": 3, "unit_price_minor": 1_500, "client_visible": False},
    )
    assert changed["line_total"]["formatted"] == "$45.00" and not changed["client_visible"]
    assert await staff(gw, running, "DELETE", f"/api/v1/lines/{spare['id']}") is None
    proposal = await staff(
        gw,
        running,
        "PATCH",
        f"/api/v1/proposals/{built.draft['id']}",
        json={"discount_minor": 10_000},
    )
    assert proposal["discount"]["amount_minor"] == 10_000
    assert proposal["title"] == f"Draft {built.tag}"  # kept
    staff_accept = await gw.post(
        f"/api/v1/proposals/{built.sent['id']}/accept",
        headers=running.headers(),
        json={"signer_name": "Olivia", "consent": True, "content_sha256": "0" * 64},
    )
    assert staff_accept.status_code == 403


async def test_concurrent_patches_of_different_fields_both_land(built, running, gw):
    """Each PATCH is one UpdateProject carrying only its own fields as the mask:
    nothing read before is written back over the other's change."""
    created = await staff(
        gw,
        running,
        "POST",
        "/api/v1/projects",
        json={"name": f"Race {built.tag}", "customer_id": built.customer_id},
    )
    path = f"/api/v1/projects/{created['id']}"
    for n in range(4):
        await asyncio.gather(
            staff(gw, running, "PATCH", path, json={"name": f"Race {built.tag} #{n}"}),
            staff(gw, running, "PATCH", path, json={"site_address": f"{n} Elm St"}),
            staff(gw, running, "PATCH", path, json={"service_contract": n % 2 == 0}),
        )
        now = await staff(gw, running, "GET", path)
        assert (now["name"], now["site_address"], now["service_contract"]) == (
            f"Race {built.tag} #{n}",
            f"{n} Elm St",
            n % 2 == 0,
        )
    # An empty PATCH names no field: nothing changes (AIP-134).
    same = await staff(gw, running, "PATCH", path, json={})
    assert (same["name"], same["site_address"]) == (now["name"], now["site_address"])
    # A field that is not the project's is refused by name.
    unknown = await gw.patch(path, headers=running.headers(), json={"stage": "handover"})
    assert unknown.status_code == 422 and unknown.headers["content-type"] == PROBLEM
    assert [e["field"] for e in unknown.json()["errors"]] == ["stage"]
    # A field the service refuses is named too, from its INVALID_ARGUMENT.
    bad = await gw.patch(path, headers=running.headers(), json={"name": "  "})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert "name" in bad.text


async def test_the_console_shows_the_project_with_its_hidden_rooms(built, running, mail):
    async with await staff_browser(running, mail) as browser:
        listed = await browser.get(f"/console/projects?customer_id={built.customer_id}")
        assert listed.status_code == 200 and built.project["reference"] in listed.text
        page = await browser.get(f"/console/projects/{built.project['id']}")
        assert page.status_code == 200
        assert built.hidden_room["name"] in page.text and "Hidden from client" in page.text
        r = await browser.submit(
            f"/console/projects/{built.project['id']}",
            f"/console/projects/{built.project['id']}/rooms",
            {"name": f"Kitchen {built.tag}", "client_visible": "1"},
        )
        assert r.status_code == 303
        assert r.headers["location"] == f"/console/projects/{built.project['id']}#rooms"
    rooms = await built.browsers["approver"].get(f"/api/v1/projects/{built.project['id']}/rooms")
    assert f"Kitchen {built.tag}" in rooms.text

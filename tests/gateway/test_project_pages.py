"""The project pages and API against in-process fakes of identity and projects
(tests/gateway/project_fakes.py): what a client is shown and sent, what the
gateway passes on when they sign, and the staff console's pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from portal.projects.v1 import projects_pb2

from gateway.app import create_app
from gateway.settings import GatewaySettings
from services.chassis import errors
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant

P = projects_pb2
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
BOARD = f"/projects/{F.PROJECT_ID}"
PROPOSAL = f"/projects/{F.PROJECT_ID}/proposal"


@pytest.fixture
async def fakes(keypair) -> AsyncIterator[F.Fakes]:
    async with F.fake_services(keypair[1]) as running:
        yield running


@asynccontextmanager
async def browser(
    settings: GatewaySettings, fakes: F.Fakes, session=None
) -> AsyncIterator[httpx.AsyncClient]:
    fakes.identity.session = session if session is not None else F.client_session()
    app = create_app(
        settings.model_copy(
            update={
                "identity_target": fakes.identity_target,
                "projects_target": fakes.projects_target,
            }
        )
    )
    async with client_with_tenant(
        app, acme(), cookies={"portal_session": "good-session"}
    ) as client:
        client.headers["user-agent"] = "Mozilla/5.0 (iPhone) Safari/605"
        yield client


def calls(fakes: F.Fakes, name: str) -> list[tuple]:
    return [(request, who) for n, request, who in fakes.projects.calls if n == name]


async def csrf_of(client: httpx.AsyncClient, page: str) -> str:
    match = CSRF_FIELD.search((await client.get(page)).text)
    assert match, page
    return match.group(1)


# -- the list and the board ---------------------------------------------------------------


async def test_a_client_with_one_project_goes_straight_to_its_board(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        for path in ("/home", "/projects"):
            r = await client.get(path)
            assert (r.status_code, r.headers["location"]) == (303, BOARD)
        fakes.projects.projects.append(F.project(id=F.OTHER_PROJECT_ID, name="Kitchen audio"))
        home, listed = await client.get("/home"), await client.get("/projects")
    assert home.status_code == listed.status_code == 200
    for page in (home, listed):
        assert f'href="{BOARD}"' in page.text and "Kitchen audio" in page.text
    (_, who), *_ = calls(fakes, "ListProjects")
    assert (who.kind, who.customer_id, who.roles) == ("client", F.CUSTOMER_ID, {"approver"})


async def test_the_board_shows_stages_forecast_waiting_notes_budget_and_contact(
    settings, fakes
) -> None:
    async with browser(settings, fakes) as client:
        r = await client.get(BOARD)
    assert r.status_code == 200
    html = r.text
    track = html[html.index('<ol class="track"') : html.index("</ol>", html.index('class="track"'))]
    assert track.count('class="track-step') == 5
    assert re.search(r'track-current" aria-current="step">.*?Install', track, re.S)
    assert track.count("track-done") == 2 and track.count("track-next") == 2
    assert "Started 4 Mar 2026" in track and "Screen wall framed" in track
    assert "30 Apr 2026" in html  # forecast handover
    assert "moved from" not in html  # no change order moved it
    assert "Waiting on you" in html and "A change order awaits your approval" in html
    assert f'href="{PROPOSAL}"' in html
    assert "evil.example" not in html  # a link off the portal is not linked
    assert "Install has started. Expect dust" in html
    assert "INTERNAL" not in html  # the reason for a move is the team's, not the client's
    assert "$43,750.50" in html and "$42,500.00" in html and "$1,250.50" in html
    assert f'href="{PROPOSAL}/{F.SENT_ID}">View your signed proposal' in html
    mailto = re.search(r'href="(mailto:[^"]+)"', html)
    assert mailto and mailto.group(1).startswith(
        "mailto:sam@acme.example?subject=Cinema%20%26%20Sons%3F%20Home%20theatre%20%28PRJ-0007%29"
        "&amp;body=Hello%20Sam%2C%0D%0A"
    )
    assert mailto.group(1).endswith("From%3A%20Jane%20Harrison%20%26%20Co%3F")
    assert "Contact the project team" in html


async def test_the_board_says_which_change_order_moved_the_forecast_handover(
    settings, fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def moved(prj: projects_pb2.Project | None = None) -> projects_pb2.GetStatusBoardResponse:
        answer = board(prj)
        answer.handover_moved_by, answer.handover_moved_from = "CO-002", "2026-04-23"
        return answer

    board = F.board
    monkeypatch.setattr(F, "board", moved)
    async with browser(settings, fakes) as client:
        page = await client.get(BOARD)
        api = (await client.get(f"/api/v1/projects/{F.PROJECT_ID}/board")).json()
    forecast = re.search(r"Forecast handover</dt><dd>(.*?)</dd>", page.text)
    assert forecast, page.text
    assert forecast.group(1) == (
        '30 Apr 2026 <span class="fact-note">(moved from 23 Apr 2026 by change order CO-002)</span>'
    )
    assert (api["handover_moved_by"], api["handover_moved_from"]) == ("CO-002", "2026-04-23")


async def test_before_a_proposal_is_accepted_the_budget_explains_rather_than_shows_zero(
    settings, fakes, monkeypatch
) -> None:
    original = F.board

    def unsigned(prj=None):
        answer = original(prj)
        answer.budget.CopyFrom(P.Budget(contract_value=F.usd(0)))
        return answer

    monkeypatch.setattr(F, "board", unsigned)
    async with browser(settings, fakes) as client:
        r = await client.get(BOARD)
    assert "$0.00" not in r.text
    assert "once you have accepted a proposal" in r.text and f'href="{PROPOSAL}"' in r.text


async def test_a_project_the_service_does_not_show_is_the_not_found_page(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        missing = await client.get(f"/projects/{F.OTHER_PROJECT_ID}")
        garbage = await client.get("/projects/not-a-uuid")
        api = await client.get(f"/api/v1/projects/{F.OTHER_PROJECT_ID}/board")
    assert missing.status_code == garbage.status_code == 404
    assert "Not found" in missing.text
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


async def test_the_board_api_gives_the_client_notes_but_never_the_internal_reason(
    settings, fakes
) -> None:
    async with browser(settings, fakes) as client:
        r = await client.get(f"/api/v1/projects/{F.PROJECT_ID}/board")
    body = r.json()
    assert [s["stage"] for s in body["stages"]] == [
        "design",
        "procurement",
        "install",
        "commissioning",
        "handover",
    ]
    assert body["forecast_handover"] == "2026-04-30"
    assert (body["handover_moved_by"], body["handover_moved_from"]) == ("", None)
    assert body["recent_notes"][0]["note"].startswith("Install has started")
    assert "INTERNAL" not in r.text
    assert body["budget"]["contract_value"] == {
        "currency": "USD",
        "amount_minor": 4_375_050,
        "formatted": "$43,750.50",
    }


# -- what a client is sent --------------------------------------------------------------------


async def test_staff_see_every_room_and_line(settings, fakes) -> None:
    async with browser(settings, fakes, F.staff_session()) as client:
        r = await client.get(f"/api/v1/projects/{F.PROJECT_ID}/rooms")
    rooms = r.json()["rooms"]
    assert [room["client_visible"] for room in rooms] == [True, False]
    assert [line["client_visible"] for line in rooms[0]["lines"]] == [True, False]
    assert rooms[0]["lines"][0]["unit_price"]["formatted"] == "$5,999.00"


async def test_a_proposal_of_another_project_in_the_url_is_not_found(settings, fakes) -> None:
    fakes.projects.projects.append(F.project(id=F.OTHER_PROJECT_ID))
    async with browser(settings, fakes) as client:
        r = await client.get(f"/projects/{F.OTHER_PROJECT_ID}/proposal/{F.SENT_ID}")
    assert r.status_code == 404


# -- the proposal and signing -------------------------------------------------------------------


async def test_an_approver_reads_the_consent_statement_before_the_signature_fields(
    settings, fakes
) -> None:
    async with browser(settings, fakes) as client:
        r = await client.get(PROPOSAL)
    html = r.text
    assert r.status_code == 200
    assert "Sony VPL-XW5000 4K laser projector" in html and "SECRET" not in html
    assert "Other items" in html and "$100.00" in html  # counted, not itemised
    for amount in ("$2,500.00", "&minus;$500.00", "$8,099.00", "8.25 %", "$668.17", "$8,767.17"):
        assert amount in html, amount
    consent = html.index("By typing my name I accept this proposal &amp; agree to pay.")
    name_field = html.index('name="signer_name"')
    assert consent < name_field < html.index('name="consent"') < html.index("Sign and accept")
    assert f'name="content_sha256" value="{F.HASH}"' in html


async def test_a_viewer_is_told_only_an_approver_can_accept_and_gets_no_form(
    settings, fakes
) -> None:
    async with browser(settings, fakes, F.client_session("viewer")) as client:
        r = await client.get(PROPOSAL)
    assert "Only an approver can accept" in r.text
    assert 'name="signer_name"' not in r.text and "Sign and accept" not in r.text


async def test_a_read_only_portal_shows_no_signature_form(settings, fakes) -> None:
    archived = F.client_session(read_only=True)
    async with browser(settings, fakes, archived) as client:
        r = await client.get(PROPOSAL)
    assert "read-only" in r.text and 'name="signer_name"' not in r.text


async def test_signing_on_the_page_passes_name_hash_address_and_browser(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        token = await csrf_of(client, PROPOSAL)
        r = await client.post(
            f"{PROPOSAL}/{F.SENT_ID}/accept",
            data={
                "csrf_token": token,
                "request_id": "6f1c0c9e-3a52-4c1e-9a55-8c1d2f0b7e11",
                "signer_name": "Jane Harrison",
                "consent": "1",
                "content_sha256": F.HASH,
            },
        )
        assert (r.status_code, r.headers["location"]) == (303, f"{PROPOSAL}/{F.SENT_ID}")
        signed = await client.get(r.headers["location"])
    ((request, who),) = calls(fakes, "AcceptProposal")
    assert request.signer_name == "Jane Harrison" and request.consent
    assert request.content_sha256 == F.HASH
    assert request.request_id == "6f1c0c9e-3a52-4c1e-9a55-8c1d2f0b7e11"
    assert request.ip == "127.0.0.1" and request.user_agent == "Mozilla/5.0 (iPhone) Safari/605"
    assert who.kind == "client" and who.subject == F.CONTACT_ID
    assert "Signed and accepted" in signed.text and "Download signed PDF" in signed.text
    assert f'href="{PROPOSAL}/{F.SENT_ID}/pdf"' in signed.text
    assert "signed and accepted" in signed.text.lower()


async def test_signing_without_a_name_or_consent_is_explained_and_not_sent(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        token = await csrf_of(client, PROPOSAL)
        r = await client.post(
            f"{PROPOSAL}/{F.SENT_ID}/accept",
            data={"csrf_token": token, "signer_name": "", "content_sha256": F.HASH},
        )
    assert r.status_code == 422
    assert "Type your full name to sign." in r.text and "Tick the box" in r.text
    assert calls(fakes, "AcceptProposal") == []


async def test_a_refused_signature_is_shown_next_to_the_form(settings, fakes) -> None:
    fakes.projects.refuse_accept = errors.InvalidTransition
    async with browser(settings, fakes) as client:
        token = await csrf_of(client, PROPOSAL)
        r = await client.post(
            f"{PROPOSAL}/{F.SENT_ID}/accept",
            data={
                "csrf_token": token,
                "signer_name": "Jane",
                "consent": "1",
                "content_sha256": "0" * 64,
            },
        )
    assert r.status_code == 409
    assert "The proposal has changed since you opened it." in r.text


async def test_accepting_through_the_api_sends_the_idempotency_key_and_the_caller(
    settings, fakes
) -> None:
    async with browser(settings, fakes) as client:
        token = (await client.get("/api/v1/me")).json()["csrf_token"]
        body = {"signer_name": "Jane Harrison", "consent": True, "content_sha256": F.HASH}
        no_csrf = await client.post(f"/api/v1/proposals/{F.SENT_ID}/accept", json=body)
        bad_hash = await client.post(
            f"/api/v1/proposals/{F.SENT_ID}/accept",
            json=body | {"content_sha256": "not-a-hash"},
            headers={"X-CSRF-Token": token},
        )
        r = await client.post(
            f"/api/v1/proposals/{F.SENT_ID}/accept",
            json=body,
            headers={"X-CSRF-Token": token, "Idempotency-Key": "sign-once"},
        )
    assert no_csrf.status_code == 403 and bad_hash.status_code == 422
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert r.json()["signature"]["signer_name"] == "Jane Harrison"
    ((request, _),) = calls(fakes, "AcceptProposal")
    assert request.request_id == "sign-once" and request.ip == "127.0.0.1"


async def test_the_signed_pdf_downloads_as_an_attachment(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        api = await client.get(f"/api/v1/proposals/{F.SENT_ID}/pdf")
        page = await client.get(f"{PROPOSAL}/{F.SENT_ID}/pdf")
    for r in (api, page):
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/pdf"
        assert r.content == b"%PDF-1.4 fake"
        assert r.headers["content-disposition"].startswith(
            'attachment; filename="PRJ-0007_proposal_v2_signed_.pdf"'
        )


# -- the staff console ------------------------------------------------------------------------


async def test_the_console_shows_a_projects_stages_rooms_and_proposals(settings, fakes) -> None:
    async with browser(settings, fakes, F.staff_session()) as client:
        listed = await client.get("/console/projects")
        page = await client.get(f"/console/projects/{F.PROJECT_ID}")
        draft = await client.get(f"/console/projects/{F.PROJECT_ID}/proposals/{F.DRAFT_ID}")
        customer_link = await client.get(f"/console/projects?customer_id={F.CUSTOMER_ID}")
    assert listed.status_code == page.status_code == draft.status_code == 200
    assert "Cinema &amp; Sons? Home theatre" in listed.text
    html = page.text
    for text in ("Move stage", "Staff-only rack room", "SECRET-CABLE", "Hidden from client"):
        assert text in html, text
    assert 'value="Sam Lee"' in html and "Version 3: Secret draft" in html
    # At install, "Move to" offers commissioning first: the usual move, not Design.
    assert '<option value="commissioning" selected>' in html
    assert '<option value="design">' in html
    assert "INTERNAL: supplier was late" in html  # staff see the reason
    assert "Send version 3" in draft.text and "Save draft" in draft.text
    assert "The Harrison Residence: projects" in customer_link.text


async def test_a_client_cannot_open_the_console_or_call_the_staff_api(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        page = await client.get(f"/console/projects/{F.PROJECT_ID}")
        token = await csrf_of(client, PROPOSAL)
        api = await client.patch(
            f"/api/v1/projects/{F.PROJECT_ID}", json={"name": "x"}, headers={"X-CSRF-Token": token}
        )
    assert page.status_code == api.status_code == 403
    assert calls(fakes, "UpdateProject") == []


async def test_patching_a_project_sends_only_the_changes_in_its_mask(settings, fakes) -> None:
    async with browser(settings, fakes, F.staff_session()) as client:
        token = await csrf_of(client, "/console/projects")
        r = await client.patch(
            f"/api/v1/projects/{F.PROJECT_ID}",
            json={"service_contract": True, "project_manager_email": None},
            headers={"X-CSRF-Token": token},
        )
    assert r.status_code == 200, r.text
    # One call, no read first: projects merges under its own row lock.
    assert calls(fakes, "GetProject") == []
    ((request, who),) = calls(fakes, "UpdateProject")
    assert who.kind == "staff"
    assert list(request.update_mask.paths) == ["project_manager_email", "service_contract"]
    assert request.project_manager_email == ""  # cleared
    assert request.service_contract is True


async def test_console_forms_send_the_fields_they_hold_as_the_mask(settings, fakes) -> None:
    project = f"/console/projects/{F.PROJECT_ID}"
    async with browser(settings, fakes, F.staff_session()) as client:
        token = await csrf_of(client, project)
        details = await client.post(
            f"{project}/details",
            data={"csrf_token": token, "name": "Cinema", "site_address": "1 Elm St"},
        )
        room = await client.post(
            f"{project}/rooms/{F.ROOM_ID}/visibility", data={"csrf_token": token}
        )
        line = await client.post(
            f"{project}/lines/{F.LINE_ID}/visibility", data={"csrf_token": token}
        )
    assert details.status_code == room.status_code == line.status_code == 303
    ((update, _),) = calls(fakes, "UpdateProject")
    assert set(update.update_mask.paths) == {
        "name",
        "site_address",
        "project_manager_id",
        "project_manager_name",
        "project_manager_email",
        "visible_contact_ids",
        "service_contract",
    }
    assert (update.name, update.site_address) == ("Cinema", "1 Elm St")
    # A toggle changes one field: nothing read earlier is written back over a colleague's edit.
    ((hide_room, _),) = calls(fakes, "UpdateRoom")
    assert list(hide_room.update_mask.paths) == ["client_visible"] and not hide_room.client_visible
    ((hide_line, _),) = calls(fakes, "UpdateProductLine")
    assert list(hide_line.update_mask.paths) == ["client_visible"] and not hide_line.client_visible
    assert hide_line.model == ""  # not sent, so not overwritten


async def test_a_console_form_refusal_comes_back_as_a_message(settings, fakes) -> None:
    async with browser(settings, fakes, F.staff_session()) as client:
        token = await csrf_of(client, f"/console/projects/{F.PROJECT_ID}")
        bad_price = await client.post(
            f"/console/projects/{F.PROJECT_ID}/rooms/{F.ROOM_ID}/lines",
            data={"csrf_token": token, "model": "X1", "quantity": "2", "unit_price": "abc"},
        )
        good = await client.post(
            f"/console/projects/{F.PROJECT_ID}/rooms/{F.ROOM_ID}/lines",
            data={"csrf_token": token, "model": "X1", "quantity": "2", "unit_price": "1,200.50"},
        )
        foreign = await client.post(
            f"/console/projects/{F.PROJECT_ID}/rooms/{F.OTHER_PROJECT_ID}/lines",
            data={"csrf_token": token, "model": "X1", "unit_price": "1"},
        )
    assert bad_price.status_code == good.status_code == 303
    assert bad_price.headers["location"] == f"/console/projects/{F.PROJECT_ID}#room-{F.ROOM_ID}"
    assert foreign.status_code == 404  # a room that is not this project's
    ((request, _),) = calls(fakes, "AddProductLine")
    assert (request.model, request.quantity, request.unit_price_minor) == ("X1", 2, 120_050)
    assert request.client_visible is False  # the box was not ticked

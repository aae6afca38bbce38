"""Change orders through the gateway, every process separate: staff draft and
send one over the JSON API; the client's approver reads the diff on the page
(changed lines first), pushes back one line; staff revise; the client approves
revision 2 with an e-signature on the page, once however often it is posted;
the certificate downloads. A viewer cannot approve, another customer cannot
see it, and the evidence chain holds."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.e2e.test_front_door import mails_to, newest_mail_id
from tests.e2e.test_projects_portal import build, field, staff, staff_browser
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


async def _accepted(running: Running, gw, mail, *roles: str):
    b = await build(running, gw, mail, *roles)
    approver = b.browsers["approver"]
    signed = await approver.api(
        "POST",
        f"/api/v1/proposals/{b.sent['id']}/accept",
        {
            "signer_name": "Pat Approver",
            "consent": True,
            "content_sha256": b.sent["content_sha256"],
        },
    )
    assert signed.status_code == 200, signed.text
    return b


def _second_subwoofer(deadline_days: int = 7) -> dict:
    return {
        "title": "Second subwoofer",
        "reason": "The room measured bigger than surveyed; one sub leaves a null at the back row.",
        "changes": [
            {
                "kind": "added",
                "room_key": "R1",
                "description": "SVS SB-3000 subwoofer",
                "quantity": 1,
                "unit_price_minor": 129_900,
                "note": "Matches the front sub",
            },
            {"kind": "quantity", "line_key": "R1.1", "quantity": 2},
        ],
        "schedule_impact_days": 3,
        "shift_from_stage": "install",
        "approval_deadline": (datetime.now(UTC) + timedelta(days=deadline_days)).isoformat(),
    }


async def test_push_back_a_line_then_approve_revision_two_on_the_page(running: Running, gw, mail):
    b = await _accepted(running, gw, mail, "approver", "viewer")
    pid = b.project["id"]
    client = b.browsers["approver"]
    draft = await staff(
        gw, running, "POST", f"/api/v1/projects/{pid}/change-orders", json=_second_subwoofer()
    )
    assert draft["status"] == "draft" and draft["number"].startswith("CO-")
    # A client never sees a draft, by any route.
    hidden = await client.api("GET", f"/api/v1/change-orders/{draft['id']}")
    assert (hidden.status_code, hidden.headers["content-type"]) == (404, PROBLEM)
    sent = await staff(gw, running, "POST", f"/api/v1/change-orders/{draft['id']}/send")
    assert sent["status"] == "sent" and len(sent["content_sha256"]) == 64
    impact = sent["diff"]["price_impact"]["amount_minor"]
    assert impact > 129_900  # a sub, a second projector, tax on both

    listed = (await client.get(f"/projects/{pid}/change-orders")).text
    assert "Second subwoofer" in listed and "Awaiting your approval" in listed
    page = await client.get(f"/projects/{pid}/change-orders/{sent['id']}")
    assert page.status_code == 200
    html = page.text
    # Changed lines come first: the added sub before anything unchanged.
    assert html.index("SVS SB-3000") < html.index("Other items") if "Other items" in html else True
    assert "Added" in html and "Quantity changed" in html and "+3 days" in html
    assert sent["diff"]["after"]["total"]["formatted"] in html
    viewed = await staff(gw, running, "GET", f"/api/v1/change-orders/{sent['id']}")
    assert viewed["status"] == "viewed" and viewed["viewed_at"]

    form = {n: field(html, n) for n in ("csrf_token", "request_id", "revision")}
    nothing = await client.client.post(
        f"/projects/{pid}/change-orders/{sent['id']}/push-back", data=form
    )
    assert nothing.status_code == 422 and "Say what you would like changed" in nothing.text
    pushed = await client.client.post(
        f"/projects/{pid}/change-orders/{sent['id']}/push-back",
        data=form | {"line:R1.1": "We only need one projector; keep the sub."},
    )
    assert pushed.status_code == 303, pushed.text
    after_push = await staff(gw, running, "GET", f"/api/v1/change-orders/{sent['id']}")
    assert after_push["status"] == "pushed_back"
    (comment,) = after_push["comments"]
    assert comment["line_key"] == "R1.1" and comment["author_kind"] == "client"

    revised = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/change-orders/{sent['id']}/revise",
        json={"changes": _second_subwoofer()["changes"][:1], "comment": "Done: one projector."},
    )
    assert revised["revision"] == 2 and revised["status"] == "draft"
    second = await staff(gw, running, "POST", f"/api/v1/change-orders/{sent['id']}/send")
    assert second["revision"] == 2
    compared = await staff(
        gw, running, "GET", f"/api/v1/change-orders/{sent['id']}/compare?from=1&to=2"
    )
    assert any(x["line_key"] == "R1.1" for x in compared["lines"])
    assert (
        compared["price_impact_to"]["amount_minor"] < compared["price_impact_from"]["amount_minor"]
    )

    # The viewer reads it but is told only an approver may approve.
    viewer = b.browsers["viewer"]
    seen = await viewer.get(f"/projects/{pid}/change-orders/{sent['id']}")
    assert "Only an approver can approve this change" in seen.text
    refused = await viewer.api(
        "POST",
        f"/api/v1/change-orders/{sent['id']}/approve",
        {
            "revision": 2,
            "signer_name": "Vic Viewer",
            "consent": True,
            "content_sha256": second["content_sha256"],
        },
    )
    assert (refused.status_code, refused.headers["content-type"]) == (403, PROBLEM)

    html = (await client.get(f"/projects/{pid}/change-orders/{sent['id']}")).text
    assert "Done: one projector." in html and "Revision 2" in html
    form = {n: field(html, n) for n in ("csrf_token", "request_id", "revision", "content_sha256")}
    assert form["revision"] == "2" and form["content_sha256"] == second["content_sha256"]
    signing = form | {"signer_name": "Pat Approver", "consent": "1"}
    # A double click: the same form (the same request id) posted twice.
    first = await client.client.post(
        f"/projects/{pid}/change-orders/{sent['id']}/approve", data=signing
    )
    again = await client.client.post(
        f"/projects/{pid}/change-orders/{sent['id']}/approve", data=signing
    )
    assert first.status_code == 303, first.text
    assert again.status_code in (303, 409), again.text
    done = await staff(gw, running, "GET", f"/api/v1/change-orders/{sent['id']}")
    assert done["status"] == "approved" and done["signature"]["revision"] == 2
    assert done["signature"]["signer_email"] == next(
        c["email"] for c in b.contacts if c["role"] == "approver"
    )
    shown = (await client.get(f"/projects/{pid}/change-orders/{sent['id']}")).text
    assert "Approved and signed" in shown
    pdf = await client.get(f"/projects/{pid}/change-orders/{sent['id']}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    api_pdf = await client.client.get(f"/api/v1/change-orders/{sent['id']}/certificate.pdf")
    assert api_pdf.status_code == 200 and api_pdf.headers["content-type"] == "application/pdf"
    audit = await staff(gw, running, "GET", f"/api/v1/change-orders/{sent['id']}/audit")
    assert audit["intact"] and [e["action"] for e in audit["entries"]].count("approved") == 1
    # A client cannot read the evidence pack's internals.
    denied = await client.api("GET", f"/api/v1/change-orders/{sent['id']}/audit")
    assert denied.status_code in (403, 404)
    for browser in b.browsers.values():
        await browser.client.aclose()


async def test_another_customer_cannot_see_or_approve_it(running: Running, gw, mail):
    mine = await _accepted(running, gw, mail, "approver")
    theirs = await _accepted(running, gw, mail, "approver")
    draft = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/projects/{mine.project['id']}/change-orders",
        json=_second_subwoofer(),
    )
    sent = await staff(gw, running, "POST", f"/api/v1/change-orders/{draft['id']}/send")
    other = theirs.browsers["approver"]
    for path in (
        f"/api/v1/change-orders/{sent['id']}",
        f"/api/v1/change-orders/{sent['id']}/certificate.pdf",
        f"/api/v1/projects/{mine.project['id']}/change-orders",
    ):
        r = await other.api("GET", path)
        assert r.status_code == 404, (path, r.status_code, r.text)
    r = await other.api(
        "POST",
        f"/api/v1/change-orders/{sent['id']}/approve",
        {
            "revision": 1,
            "signer_name": "Not Me",
            "consent": True,
            "content_sha256": sent["content_sha256"],
        },
    )
    assert r.status_code == 404, r.text
    # Its page under the other customer's project is the ordinary not-found page.
    page = await other.get(f"/projects/{theirs.project['id']}/change-orders/{sent['id']}")
    assert page.status_code == 404
    still = await staff(gw, running, "GET", f"/api/v1/change-orders/{sent['id']}")
    assert still["status"] == "sent"
    for b in (mine, theirs):
        for browser in b.browsers.values():
            await browser.client.aclose()


async def test_bad_input_is_a_clear_problem(running: Running, gw, mail):
    b = await _accepted(running, gw, mail, "approver")
    pid = b.project["id"]
    body = _second_subwoofer()
    body["changes"][0]["quantity"] = 2**40
    r = await gw.post(f"/api/v1/projects/{pid}/change-orders", json=body, headers=running.headers())
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM)
    assert "quantity" in r.text
    body = _second_subwoofer()
    body["changes"][0]["line_key"] = ""
    body["changes"][0]["kind"] = "removed"
    r = await gw.post(f"/api/v1/projects/{pid}/change-orders", json=body, headers=running.headers())
    assert r.status_code in (400, 422) and r.headers["content-type"] == PROBLEM, r.text
    assert r.json()["detail"]
    draft = await staff(
        gw, running, "POST", f"/api/v1/projects/{pid}/change-orders", json=_second_subwoofer()
    )
    client = b.browsers["approver"]
    sent = await staff(gw, running, "POST", f"/api/v1/change-orders/{draft['id']}/send")
    wrong = await client.api(
        "POST",
        f"/api/v1/change-orders/{sent['id']}/approve",
        {"revision": 1, "signer_name": "Pat Approver", "consent": True, "content_sha256": "0" * 64},
    )
    assert wrong.status_code in (409, 422) and wrong.headers["content-type"] == PROBLEM, wrong.text
    unticked = await client.api(
        "POST",
        f"/api/v1/change-orders/{sent['id']}/approve",
        {
            "revision": 1,
            "signer_name": "Pat Approver",
            "consent": False,
            "content_sha256": sent["content_sha256"],
        },
    )
    assert unticked.status_code in (409, 422), unticked.text
    assert (await staff(gw, running, "GET", f"/api/v1/change-orders/{sent['id']}"))[
        "status"
    ] != "approved"
    await client.client.aclose()


async def test_staff_draft_add_send_revise_and_withdraw_in_the_console(running: Running, gw, mail):
    b = await _accepted(running, gw, mail, "approver")
    pid = b.project["id"]
    async with await staff_browser(running, mail) as browser:
        listing = f"/console/projects/{pid}/change-orders"
        page = await browser.get(listing)
        assert page.status_code == 200
        # The contract with its keys, the hidden line marked internal.
        assert "R1.1 · Sony VPL-XW5000 - 4K laser projector" in page.text
        assert "internal" in page.text
        r = await browser.submit(
            listing,
            listing,
            {
                "title": "Second subwoofer",
                "reason": "Bigger room than surveyed",
                "kind": "added",
                "target": "room:R1",
                "description": "SVS SB-3000",
                "quantity": "1",
                "unit_price": "1,299.00",
                "schedule_days": "2",
                "shift_from_stage": "install",
                "deadline_days": "7",
            },
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/console/change-orders/")
        order_page = r.headers["location"]
        oid = order_page.rsplit("/", 1)[1]
        shown = await browser.get(order_page)
        assert "SVS SB-3000" in shown.text and "Intact" in shown.text
        bad = await browser.submit(
            order_page,
            f"{order_page}/changes",
            {"kind": "quantity", "target": "R1.1", "quantity": "lots"},
        )
        assert bad.status_code == 303
        assert "Quantity: a whole number" in (await browser.get(order_page)).text
        added = await browser.submit(
            order_page,
            f"{order_page}/changes",
            {"kind": "quantity", "target": "R1.1", "quantity": "2"},
        )
        assert added.status_code == 303
        order = await staff(gw, running, "GET", f"/api/v1/change-orders/{oid}")
        assert [c["kind"] for c in order["changes"]] == ["added", "quantity"]
        assert order["diff"]["price_impact"]["amount_minor"] > 599_900 + 129_900
        removed = await browser.submit(order_page, f"{order_page}/changes/1/remove", {})
        assert removed.status_code == 303
        sent = await browser.submit(order_page, f"{order_page}/send", {})
        assert sent.status_code == 303
        assert (await staff(gw, running, "GET", f"/api/v1/change-orders/{oid}"))["status"] == "sent"
        revised = await browser.submit(
            order_page,
            f"{order_page}/revise",
            {"comment": "Cheaper sub on offer", "deadline_days": "5"},
        )
        assert revised.status_code == 303
        order = await staff(gw, running, "GET", f"/api/v1/change-orders/{oid}")
        assert (order["revision"], order["status"]) == (2, "draft")
        assert order["comments"][-1]["body"] == "Cheaper sub on offer"
        # Revision 2's words say why it changed (they start as revision 1's).
        details = f"{order_page}/details"
        empty = await browser.submit(order_page, details, {"title": "Second sub", "reason": " "})
        assert empty.status_code == 303
        assert "Reason is required" in (await browser.get(order_page)).text  # changeorders' rule
        reworded = await browser.submit(
            order_page,
            details,
            {"title": "Second subwoofer, smaller", "reason": "A cheaper sub fits the rack"},
        )
        assert reworded.status_code == 303
        order = await staff(gw, running, "GET", f"/api/v1/change-orders/{oid}")
        assert (order["title"], order["reason"], order["revision"]) == (
            "Second subwoofer, smaller",
            "A cheaper sub fits the rack",
            2,
        )
        # The thread names the answer's author as identity does, not "staff".
        me = (await browser.get("/api/v1/me")).json()
        thread = (await browser.get(order_page)).text
        assert f"<strong>{html.escape(me['full_name'])}</strong>" in thread
        assert "<strong>staff</strong>" not in thread
        gone = await browser.submit(order_page, f"{order_page}/withdraw", {"reason": "Not needed"})
        assert gone.status_code == 303
        assert (await staff(gw, running, "GET", f"/api/v1/change-orders/{oid}"))[
            "status"
        ] == "withdrawn"
    await b.browsers["approver"].client.aclose()


async def _age_proof(running: Running, browser) -> None:
    """Test-only: the session's last proof two hours old, rather than wait."""
    pg = running.suite.postgres
    conn = await asyncpg.connect(host=pg.host, port=pg.port, user="postgres", database="identity")
    try:
        digest = hashlib.sha256(browser.session_cookie.encode()).hexdigest()
        status = await conn.execute(
            "UPDATE session SET authenticated_at = now() - interval '2 hours' "
            "WHERE token_hash = $1",
            digest,
        )
    finally:
        await conn.close()
    assert status == "UPDATE 1"


async def test_an_old_sign_in_steps_up_by_password_or_emailed_code_before_signing(
    running: Running, gw, mail
):
    b = await _accepted(running, gw, mail, "approver")
    pid = b.project["id"]
    client = b.browsers["approver"]
    email = next(c["email"] for c in b.contacts if c["role"] == "approver")
    draft = await staff(
        gw, running, "POST", f"/api/v1/projects/{pid}/change-orders", json=_second_subwoofer()
    )
    sent = await staff(gw, running, "POST", f"/api/v1/change-orders/{draft['id']}/send")
    await _age_proof(running, client)
    approval = {
        "revision": 1,
        "signer_name": "Pat Approver",
        "consent": True,
        "content_sha256": sent["content_sha256"],
    }
    refused = await client.api("POST", f"/api/v1/change-orders/{sent['id']}/approve", approval)
    assert (refused.status_code, refused.json()["code"]) == (403, "step_up_required"), refused.text
    page = await client.get(f"/projects/{pid}/change-orders/{sent['id']}")
    assert "Confirm it's you, then sign" in page.text and "Sign and approve" not in page.text
    wrong = await client.api("POST", "/api/v1/me/step-up", {"password": "not my password"})
    assert wrong.status_code == 401, wrong.text
    # By emailed code: the page's "Email me a code", then the code.
    before = await newest_mail_id(mail)
    asked = await client.submit(
        f"/projects/{pid}/change-orders/{sent['id']}",
        f"/projects/{pid}/change-orders/{sent['id']}/step-up",
        {"send_code": "1"},
    )
    assert asked.status_code == 303, asked.text

    async def code():
        for m in await mails_to(mail, email, after=before):
            if match := re.search(r"\b(\d{6})\b", m["subject"]):
                return match.group(1)
        return None

    emailed = await wait_for(code)
    proven = await client.api("POST", "/api/v1/me/step-up", {"code": emailed})
    assert proven.status_code == 200 and proven.json()["auth_method"] == "step_up:email_code"
    again = await client.api("POST", "/api/v1/me/step-up", {"code": emailed})
    assert again.status_code == 401  # spent
    approved = await client.api("POST", f"/api/v1/change-orders/{sent['id']}/approve", approval)
    assert approved.status_code == 200, approved.text
    assert approved.json()["signature"]["auth_method"] == "step_up:email_code"
    await client.client.aclose()


async def test_step_up_guesses_run_out(running: Running, gw, mail):
    b = await _accepted(running, gw, mail, "approver")
    client = b.browsers["approver"]
    await _age_proof(running, client)
    assert (await client.api("POST", "/api/v1/me/step-up/code", {})).status_code == 202
    answers = [
        (await client.api("POST", "/api/v1/me/step-up", {"code": f"{n:06d}"})).status_code
        for n in range(6)
    ]
    assert answers == [401] * 6
    last = await client.api("POST", "/api/v1/me/step-up", {"code": "000000"})
    assert "Ask for a new code" in last.json()["detail"]
    both = await client.api("POST", "/api/v1/me/step-up", {"code": "1", "password": "x"})
    assert both.status_code == 422
    await client.client.aclose()


async def test_the_demo_seed_has_the_second_subwoofer_waiting_on_the_client(running: Running, gw):
    order = await staff(
        gw, running, "GET", f"/api/v1/change-orders/{running.info['demo_change_order_id']}"
    )
    assert order["title"] == "Second subwoofer" and order["number"] == "CO-001"
    assert order["status"] in ("sent", "viewed", "pushed_back", "approved")
    if order["revision"] == 1:
        changed = [
            x for r in order["diff"]["rooms"] for x in r["lines"] if x["kind"] != "unchanged"
        ]
        assert sorted(x["kind"] for x in changed) == ["added", "added", "quantity"]
    else:  # the browser walk pushed back the bass traps and approved revision 2 without them
        compared = await staff(
            gw, running, "GET", f"/api/v1/change-orders/{order['id']}/compare?from=1&to=2"
        )
        assert [x["line_key"] for x in compared["lines"]] == ["R1.8"]
    assert order["schedule"]["impact_days"] == 2
    # Idempotent: the seed run again finds it and sends nothing twice.
    from deploy.seed_change_orders import seed_demo_change_orders

    again = await seed_demo_change_orders(
        changeorders_target=running.suite.target("changeorders"),
        private_key=running.suite.private_key,
        tenant_id=running.info["tenant_id"],
        project_id=running.info["demo_project_id"],
    )
    assert again == order["id"]
    audit = await staff(gw, running, "GET", f"/api/v1/change-orders/{order['id']}/audit")
    # One send per revision, however often the seed runs.
    assert [e["action"] for e in audit["entries"]].count("sent") == order["revision"]

"""Issue 12's "Done when", walked on the seeded demo as `make run` leaves it,
through the real pages in headless Chromium on a phone (390 px):

Jane Harrison opens the seeded "Second subwoofer" (CO-001), reads the diff,
pushes back the bass-trap line with a comment; Olivia revises it in the
console (answers in the thread, drops that line) and sends revision 2; Jane
reads the consent statement, types her name and approves revision 2. Then,
polled rather than slept, the status board, the invoice schedule, the
install work order, both inboxes and the project's documents all show it, and
`portal changeorders verify CO-001`, run as a subprocess against the suite's
changeorders database, says the chain holds.

The walk leaves the demo's CO-001 approved: it runs once per suite (the other
readers of the demo order accept "approved").

Screenshots: demo-co-*-390.png for every step, and the key pages at 1280."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from deploy.seed import DEMO_PASSWORD
from tests.browser.conftest import VIEWPORTS, Suite, shot
from tests.browser.test_error_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
JANE = "jane.harrison@example.com"
OLIVIA = "olivia@acme-av.example"
PHONE = VIEWPORTS["phone"]
# From the click on "Sign and approve" to the last of board, invoice schedule,
# work order, certificate and both mails: measured 0.5-1.6 s over six runs on
# the shared 2-core machine (load average 15-19), the mails last. The bound is
# loose for that noisy machine; run with -s to read each run's figures.
WITHIN_S = 10.0


def _ok(response) -> dict:
    assert response.is_success, response.text
    return response.json() if response.content else {}


@pytest.fixture
def phones(chromium: Browser) -> Iterator:
    """Two phones: the client's and the staff member's, each its own session."""
    made = [chromium.new_context(viewport=PHONE, locale="en-US") for _ in range(2)]
    for context in made:
        context.set_default_timeout(15_000)
    yield [context.new_page() for context in made]
    for context in made:
        context.close()


def both_widths(page: Page, name: str) -> None:
    """The step at 390 px, then the same page at 1280 px, then back."""
    shot(page, name)
    page.set_viewport_size(VIEWPORTS["desktop"])
    shot(page, name)
    page.set_viewport_size(PHONE)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _mails(suite: Suite, to: str, subject_part: str, after: int) -> list[dict]:
    msgs = suite.mail.get("/messages", params={"to": to}).json()
    return [m for m in msgs if m["id"] > after and subject_part in m["subject"]]


def _install_order(suite: Suite, pid: str) -> dict:
    """The seed's install visit on Marcus's Tuesday, in the cinema."""
    found = _ok(
        suite.api.get(
            "/api/v1/work-orders",
            params={
                "from": "2000-01-01T00:00:00Z",
                "to": "2100-01-01T00:00:00Z",
                "project_id": pid,
            },
        )
    )["work_orders"]
    (order,) = [w for w in found if w["title"] == "Install rear surround speakers"]
    return order


def _verify_cli(suite: Suite, reference: str) -> subprocess.CompletedProcess:
    """`portal changeorders verify` as `make run` would run it: its own
    process, the service's database settings from the environment."""
    info = suite.running.info
    portal = Path(sys.executable).with_name("portal")
    argv = [str(portal)] if portal.exists() else [sys.executable, "-m", "deploy.cli"]
    env = {**os.environ, **info["services"]["changeorders"]}
    tenant = info["tenant_id"]
    return subprocess.run(
        [*argv, "changeorders", "verify", "CO-001", "--project", reference, "--tenant", tenant],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.timeout(900)
def test_the_demo_client_pushes_back_then_approves_revision_two_and_it_all_follows(
    phones, suite: Suite
) -> None:
    client, staff = phones
    info = suite.running.info
    base, pid, oid = suite.base, info["demo_project_id"], info["demo_change_order_id"]
    seeded = _ok(suite.api.get(f"/api/v1/change-orders/{oid}"))
    assert (seeded["number"], seeded["revision"]) == ("CO-001", 1)
    assert seeded["status"] in ("sent", "viewed"), "the walk runs once, on a fresh seed"
    traps = next(x for r in seeded["diff"]["rooms"] for x in r["lines"] if x["line_key"] == "R1.8")
    traps_name = traps["description_after"]

    # -- the client opens it on her phone and reads the diff -------------------
    sign_in(client, base, JANE, DEMO_PASSWORD)
    client.goto(f"{base}/projects/{pid}")
    awaiting = client.locator(".waiting-title", has_text="CO-001 Second subwoofer awaits")
    expect(awaiting).to_be_visible()
    shot(client, "demo-co-board-before")
    client.get_by_role("link", name="Change orders").first.click()
    expect(client.get_by_text("Awaiting your approval").first).to_be_visible()
    client.get_by_role("link", name=re.compile("Second subwoofer")).click()
    expect(client.get_by_role("heading", name="CO-001: Second subwoofer")).to_be_visible()
    impact = seeded["diff"]["price_impact"]["formatted"]
    expect(client.locator(".impact-figure").first).to_have_text(f"+{impact}")
    expect(client.get_by_text("+2 days")).to_be_visible()
    diff = client.get_by_role("region", name="Line by line")
    expect(diff.locator("tr.diff-added", has_text="rear of the room")).to_be_visible()
    # On a phone the changed lines come first in the room, before what stays.
    cinema = diff.locator("tbody").first.locator("tr")
    expect(cinema.first).not_to_have_class(re.compile("diff-unchanged"))
    expect(diff.locator(".tag-added")).to_have_count(2)
    expect(diff.locator(".tag-quantity")).to_have_count(1)
    # Even on a phone the quantity change reads as quantities, not just totals.
    traps_row = diff.locator("tr.diff-quantity")
    expect(traps_row.locator(".line-qty").first).to_be_visible()
    expect(traps_row).to_contain_text(f"{traps['quantity_before']} \N{MULTIPLICATION SIGN}")
    expect(traps_row).to_contain_text(f"{traps['quantity_after']} \N{MULTIPLICATION SIGN}")
    expect(client.get_by_role("heading", name="Your payments")).to_be_visible()
    no_sideways_scroll(client)
    both_widths(client, "demo-co-diff")

    # -- she pushes back one line, with a comment ------------------------------
    client.get_by_text(f"Comment on “{traps_name}”").click()
    client.get_by_label(f"Your comment on {traps_name}").fill(
        "Twelve traps are plenty; please keep the rear sub."
    )
    client.get_by_role("button", name="Send back with comments").click()
    expect(client.get_by_text("Your comments are with the team")).to_be_visible()
    expect(client.get_by_text("Sent back with your comments")).to_be_visible()
    shot(client, "demo-co-pushed-back")
    pushed = _ok(suite.api.get(f"/api/v1/change-orders/{oid}"))
    assert pushed["status"] == "pushed_back"
    assert [(c["line_key"], c["author_kind"]) for c in pushed["comments"]] == [("R1.8", "client")]

    # -- staff revise on the console page --------------------------------------
    sign_in(staff, base, OLIVIA, DEMO_PASSWORD)
    expect(staff).to_have_url(re.compile(r"/console$"))
    staff.goto(f"{base}/console/change-orders/{oid}")
    thread = staff.get_by_role("region", name="Conversation")
    expect(thread).to_contain_text("Twelve traps are plenty")
    expect(thread).to_contain_text("on R1.8")
    staff.get_by_label("Your answer in the thread").fill("Agreed: the traps stay at twelve.")
    staff.get_by_role("button", name="Start revision 2").click()
    expect(staff.get_by_text("A new revision is drafted")).to_be_visible()
    entered = staff.locator("li.row-split", has_text="R1.8")
    entered.get_by_role("button", name="Remove").click()
    expect(staff.get_by_text("The change is removed.")).to_be_visible()
    expect(staff.locator("li.row-split", has_text="R1.8")).to_have_count(0)
    # The reason still says "four more bass traps": staff reword it for revision 2.
    staff.get_by_label("Why (the client reads it", exact=False).fill(
        "The back row measured 9 dB down at 40 Hz: a rear subwoofer fixes it, with the "
        "twelve traps as they are. Calibration takes two more days at commissioning."
    )
    staff.get_by_role("button", name="Save", exact=True).click()
    expect(staff.get_by_text("The title and reason are saved.")).to_be_visible()
    both_widths(staff, "demo-co-console-revision")
    staff.get_by_role("button", name="Send revision 2").click()
    expect(staff.get_by_text("Sent. The client can now read it")).to_be_visible()
    shot(staff, "demo-co-console-sent")

    # What approving must move, as it stands before.
    second = _ok(suite.api.get(f"/api/v1/change-orders/{oid}"))
    assert (second["revision"], second["status"]) == (2, "sent")
    impact2 = second["diff"]["price_impact"]["amount_minor"]
    assert 0 < impact2 < seeded["diff"]["price_impact"]["amount_minor"]
    board0 = _ok(suite.api.get(f"/api/v1/projects/{pid}/board"))
    plan0 = _ok(suite.api.get(f"/api/v1/projects/{pid}/payment-plan"))
    install0 = _install_order(suite, pid)
    mail0 = max((m["id"] for m in suite.mail.get("/messages").json()), default=0)

    # -- the client reads revision 2 and signs it ------------------------------
    client.reload()
    expect(client.get_by_text(re.compile(r"^Revision 2"))).to_be_visible()
    expect(client.get_by_text("Agreed: the traps stay at twelve.")).to_be_visible()
    expect(client.get_by_text("with the twelve traps as they are")).to_be_visible()
    diff = client.get_by_role("region", name="Line by line")
    expect(diff.locator(".tag-quantity")).to_have_count(0)
    expect(diff.locator(".tag-added")).to_have_count(2)
    if client.get_by_role("heading", name="Confirm it's you, then sign").count():
        client.get_by_label("Your password").fill(DEMO_PASSWORD)  # step-up, when asked
        client.get_by_role("button", name="Confirm", exact=True).click()
        expect(client.get_by_text("You can sign now.")).to_be_visible()
    consent = client.locator("#consent-statement")
    assert second["consent_text"].startswith("I approve this change")
    expect(consent).to_have_text(second["consent_text"])
    name = client.get_by_label("Your full name")
    # The consent text is read before the name is typed: it sits above it.
    assert consent.bounding_box()["y"] < name.bounding_box()["y"]
    name.fill("Jane Harrison")
    client.get_by_label("I have read the statement above and I agree to it.").check()
    shot(client, "demo-co-sign")
    started = time.monotonic()
    client.get_by_role("button", name="Sign and approve").click()
    expect(client.get_by_role("heading", name="Approved and signed")).to_be_visible()
    signed_in_s = time.monotonic() - started
    signature = _ok(suite.api.get(f"/api/v1/change-orders/{oid}"))["signature"]
    assert (signature["revision"], signature["signer_name"]) == (2, "Jane Harrison")
    assert signature["signer_email"] == JANE and signature["auth_method"]
    assert signature["content_sha256"] == second["content_sha256"]

    # -- everything follows: poll each until it shows, and time it --------------
    number = "CO-001"

    def board() -> bool:
        b = _ok(suite.api.get(f"/api/v1/projects/{pid}/board"))
        return b["budget"]["approved_variations"]["amount_minor"] == (
            board0["budget"]["approved_variations"]["amount_minor"] + impact2
        )

    def schedule() -> bool:
        plan = _ok(suite.api.get(f"/api/v1/projects/{pid}/payment-plan"))
        return plan["contract"]["amount_minor"] == plan0["contract"]["amount_minor"] + impact2

    def work_order() -> bool:
        return any(t.startswith(f"{number}: install") for t in _install_order(suite, pid)["tasks"])

    def client_mail() -> bool:
        return bool(_mails(suite, JANE, f"{number} approved", mail0))

    def staff_mail() -> bool:
        return bool(_mails(suite, OLIVIA, "was approved", mail0))

    def certificate() -> bool:
        docs = _ok(suite.api.get(f"/api/v1/projects/{pid}/documents"))["documents"]
        return any(d["title"] == f"{number} approved: Second subwoofer" for d in docs)

    waiting = {
        f.__name__: f for f in (board, schedule, work_order, client_mail, staff_mail, certificate)
    }
    landed: dict[str, float] = {}
    while waiting and time.monotonic() - started < 60:
        for key, check in list(waiting.items()):
            if check():
                landed[key] = round(time.monotonic() - started, 2)
                del waiting[key]
        time.sleep(0.05)
    print(f"\napproval took {signed_in_s:.2f} s on the page; then (s from the click): {landed}")
    assert not waiting, f"never showed: {sorted(waiting)} (landed: {landed})"
    assert max(landed.values()) <= WITHIN_S, landed

    # -- and each on its page ---------------------------------------------------
    no_sideways_scroll(client)
    both_widths(client, "demo-co-signed")
    client.goto(f"{base}/projects/{pid}")
    budget = client.get_by_role("region", name="Budget")
    after = _ok(suite.api.get(f"/api/v1/projects/{pid}/board"))["budget"]
    expect(budget).to_contain_text(after["approved_variations"]["formatted"])
    expect(budget).to_contain_text(after["contract_value"]["formatted"])
    expect(client.locator(".waiting-title", has_text="CO-001")).to_have_count(0)
    # Commissioning moved two days, so the forecast handover did, saying why.
    expect(
        client.get_by_text(re.compile(r"\(moved from .+ by change order CO-001\)"))
    ).to_be_visible()
    both_widths(client, "demo-co-board-after")
    client.goto(f"{base}/projects/{pid}/documents")
    expect(
        client.locator(".doc-title", has_text=f"{number} approved: Second subwoofer")
    ).to_be_visible()
    shot(client, "demo-co-documents")
    filed = client.locator("li", has=client.locator(".doc-title", has_text=f"{number} approved"))
    with client.expect_download() as download:
        filed.get_by_role("link", name=re.compile("^Download")).click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    plan = _ok(suite.api.get(f"/api/v1/projects/{pid}/payment-plan"))
    was = {m["trigger"]: m["amount"]["amount_minor"] for m in plan0["milestones"]}
    now = {m["trigger"]: m["amount"]["amount_minor"] for m in plan["milestones"]}
    assert sum(now.values()) == sum(was.values()) + impact2
    assert [k for k in now if now[k] != was.get(k)], "some milestone to come takes the change"
    staff.goto(f"{base}/console/projects/{pid}/invoices")
    expect(staff.locator(".lede")).to_contain_text(plan["contract"]["formatted"])
    both_widths(staff, "demo-co-invoice-schedule")

    install = _install_order(suite, pid)
    added = [t for t in install["tasks"] if t not in install0["tasks"]]
    # The sub to fit, and the labour line as hours of work.
    assert added == [
        f'{number}: install 1 x JL Audio Fathom f112v2 12" powered subwoofer, rear of the room',
        f"{number}: Subwoofer placement, wiring and room-correction calibration (4 h)",
    ], added
    day = install["starts_at"][:10]
    staff.goto(f"{base}/console/dispatch?day={day}")
    visit = staff.locator(f"#wo-{install['id']}")
    expect(visit).to_contain_text(added[0])
    visit.scroll_into_view_if_needed()
    both_widths(staff, "demo-co-install-work-order")

    (copy,) = _mails(suite, JANE, f"{number} approved", mail0)
    assert f"{oid}/certificate.pdf" in copy["text"]
    told = _mails(suite, OLIVIA, "was approved", mail0)
    assert any(number in m["subject"] for m in told)

    reference = _ok(suite.api.get(f"/api/v1/projects/{pid}"))["reference"]
    verified = _verify_cli(suite, reference)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "CO-001: the chain holds" in verified.stdout

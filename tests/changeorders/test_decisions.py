"""The client's decisions through changeorders' gRPC surface on real
PostgreSQL: an approval is an e-signature given once, refused with words a
person can act on; a push-back comments on the order or its lines; staff
revise, the thread kept; deadlines expire orders."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import events_pb2
from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED, ACCESS_STATE_DELETED

from services.changeorders import service
from tests.changeorders.conftest import (
    DENIED,
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    QUANTITY,
    REMOVED,
    Site,
    at,
    new_site,
    next_week,
    subwoofer,
)
from tests.statements import statements_sent

APPROVED = pb.CHANGE_ORDER_STATUS_APPROVED
PUSHED_BACK = pb.CHANGE_ORDER_STATUS_PUSHED_BACK
SUPERSEDED = pb.CHANGE_ORDER_STATUS_SUPERSEDED
EXPIRED = pb.CHANGE_ORDER_STATUS_EXPIRED
DRAFT = pb.CHANGE_ORDER_STATUS_DRAFT


async def test_approval_keeps_the_signature_and_publishes_what_consumers_need(site: Site):
    sent = await site.sent(
        subwoofer(),
        pb.LineChange(kind=REMOVED, line_key="R2.1"),
        schedule_impact_days=2,
        shift_from_stage="install",
    )
    viewed = await site.get(sent.id, site.approver, mark_viewed=True)
    consented = datetime.now(UTC)  # the box ticked after opening it
    order = await site.approve(sent, consented_at=at(consented))
    assert order.status == APPROVED
    s = order.signature
    assert (s.signer_name, s.signer_contact_id, s.ip) == (
        "Jane Harrison",
        site.approver.subject,
        "203.0.113.7",
    )
    assert s.content_sha256 == sent.content_sha256 and s.revision == 1
    assert s.consent_text == sent.consent_text and "electronic signature" in s.consent_text
    assert s.viewed_at == viewed.viewed_at and s.auth_method == "password"
    assert s.consented_at.ToDatetime(tzinfo=UTC) == consented
    assert s.viewed_at.ToDatetime() <= s.consented_at.ToDatetime() <= s.signed_at.ToDatetime()

    (event,) = await site.svc.events(site.tenant_id, events_pb2.ChangeOrderApproved)
    assert (event.change_order_id, event.number, event.revision) == (sent.id, "CO-001", 1)
    assert (event.project_id, event.customer_id) == (site.project.id, site.side.customer_id)
    assert event.price_impact == sent.diff.price_impact
    assert event.tax_impact == sent.diff.tax_impact
    assert event.contract_total == sent.diff.after.total
    assert event.schedule_impact_days == 2 and event.shift_from_stage == "install"
    assert set(event.affected_rooms) == {"Living room", "Equipment rack"}
    lines = {x.line_key: x for x in event.lines}
    assert set(lines) == {"CO-001.1", "R2.1"}
    assert lines["R2.1"].amount_change.amount_minor == -45_000
    assert (lines["CO-001.1"].quantity_before, lines["CO-001.1"].quantity_after) == (0, 1)
    assert event.content_sha256 == sent.content_sha256


async def test_an_approval_is_17_statements_its_answer_included(site: Site):
    # The revisions are read once (locked: the decided one, the answer's list,
    # "was anything sent" for a client), the audit chain's last link as two columns.
    sent = await site.sent()
    with statements_sent(site.svc.sessions) as sent_statements:
        order = await site.approve(sent)
    assert order.status == APPROVED and [r.status for r in order.revisions] == [APPROVED]
    assert len(sent_statements) <= 17, "\n".join(sent_statements)


async def test_a_client_deciding_on_what_was_not_sent_is_told_nothing_or_which_revision(
    site: Site,
):
    draft = await site.draft()
    err = await site.fails(NOT_FOUND, "ApproveChangeOrder", site.approval(draft), site.approver)
    assert err.details() == "no such change order"  # not a hint that it exists
    sent = await site.sent()
    await push_back(site, sent, comment="Cheaper, please.")
    await revise(site, sent.id, subwoofer(unit_price_minor=99_900))  # revision 2, a draft
    err = await site.fails(
        NOT_FOUND, "ApproveChangeOrder", site.approval(sent, revision=2), site.approver
    )
    assert "has no revision 2" in err.details()


async def test_two_clicks_approve_once(site: Site):
    sent = await site.sent()
    request = site.approval(sent)
    answers = await asyncio.gather(
        *(site("ApproveChangeOrder", request, site.approver) for _ in range(5))
    )
    assert {a.change_order.status for a in answers} == {APPROVED}
    assert len({a.change_order.signature.signed_at.ToNanoseconds() for a in answers}) == 1
    assert len(await site.svc.events(site.tenant_id, events_pb2.ChangeOrderApproved)) == 1
    rows = await site.svc.sql(
        site.tenant_id, "SELECT count(*) FROM approval WHERE change_order_id = :i", i=sent.id
    )
    assert rows == [(1,)]


async def test_two_approvals_at_once_with_different_keys_sign_once(site: Site):
    sent = await site.sent()
    outcomes = await asyncio.gather(
        *(site("ApproveChangeOrder", site.approval(sent), site.approver) for _ in range(4)),
        return_exceptions=True,
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 3
    assert all("already been approved" in e.details() for e in lost)  # type: ignore[attr-defined]
    assert len(await site.svc.events(site.tenant_id, events_pb2.ChangeOrderApproved)) == 1


async def test_a_viewer_cannot_approve_and_staff_cannot_sign_for_the_client(site: Site):
    sent = await site.sent()
    err = await site.fails(DENIED, "ApproveChangeOrder", site.approval(sent), site.viewer)
    assert "viewer" in err.details()
    await site.fails(DENIED, "ApproveChangeOrder", site.approval(sent), site.pm)
    as_client = site.side.client(read_only=True, viewing_as=True, subject=site.pm.subject)
    await site.fails(DENIED, "ApproveChangeOrder", site.approval(sent), as_client)


async def test_an_archived_customer_reads_but_cannot_approve_and_a_closed_one_neither(site: Site):
    sent = await site.sent()
    await site.change_access(ACCESS_STATE_ARCHIVED)
    assert (await site.get(sent.id, site.approver)).id == sent.id
    err = await site.fails(DENIED, "ApproveChangeOrder", site.approval(sent), site.approver)
    assert "read-only" in err.details()
    await site.change_access(ACCESS_STATE_DELETED)
    request = pb.GetChangeOrderRequest(change_order_id=sent.id)
    await site.fails(DENIED, "GetChangeOrder", request, site.approver)


async def test_another_customer_cannot_see_or_approve_it(site: Site, changeorders):
    sent = await site.sent()
    stranger = site.side.client(customer_id=str(uuid.uuid4()))
    await site.fails(NOT_FOUND, "ApproveChangeOrder", site.approval(sent), stranger)
    other = await new_site(changeorders)
    await other.fails(
        NOT_FOUND,
        "GetChangeOrder",
        pb.GetChangeOrderRequest(change_order_id=sent.id),
        other.approver,
    )


async def test_approval_needs_consent_a_name_and_the_content_that_was_shown(site: Site):
    sent = await site.sent()
    err = await site.fails(
        INVALID, "ApproveChangeOrder", site.approval(sent, consent=False), site.approver
    )
    assert "tick the box" in err.details()
    await site.fails(
        INVALID, "ApproveChangeOrder", site.approval(sent, signer_name=" "), site.approver
    )
    err = await site.fails(
        PRECONDITION,
        "ApproveChangeOrder",
        site.approval(sent, content_sha256="0" * 64),
        site.approver,
    )
    assert "reload" in err.details()


async def test_a_superseded_revision_cannot_be_approved(site: Site):
    sent = await site.sent()
    revised = await revise(site, sent.id, pb.LineChange(kind=QUANTITY, line_key="R1.1", quantity=3))
    assert (revised.revision, revised.status) == (2, DRAFT)
    err = await site.fails(PRECONDITION, "ApproveChangeOrder", site.approval(sent), site.approver)
    assert "replaced by revision 2" in err.details()
    old = await site.get(sent.id, site.approver)  # the client still sees revision 1
    assert (old.revision, old.status) == (1, SUPERSEDED)


async def test_past_the_deadline_approval_is_refused_and_the_job_expires_it(site: Site):
    sent = await site.sent(deadline=at(datetime.now(UTC) + timedelta(seconds=2)))
    await asyncio.sleep(2.2)
    err = await site.fails(PRECONDITION, "ApproveChangeOrder", site.approval(sent), site.approver)
    assert "deadline" in err.details() and "has passed" in err.details()
    assert await service.expire_due(sessions=site.svc.sessions) >= 1
    assert (await site.get(sent.id, site.pm)).status == EXPIRED
    (event,) = [
        e
        for e in await site.svc.events(site.tenant_id, events_pb2.ChangeOrderExpired)
        if e.change_order_id == sent.id
    ]
    assert event.number == "CO-001"
    # Expired is final for this revision; revising sends it again.
    await site.fails(PRECONDITION, "ApproveChangeOrder", site.approval(sent), site.approver)
    deadline = next_week()
    again = await revise(site, sent.id, approval_deadline=deadline)
    assert (again.revision, again.status, again.approval_deadline) == (2, DRAFT, deadline)


async def test_a_withdrawn_order_cannot_be_approved(site: Site):
    sent = await site.sent()
    request = pb.WithdrawChangeOrderRequest(
        change_order_id=sent.id, reason="Client chose another room"
    )
    withdrawn = (await site("WithdrawChangeOrder", request, site.pm)).change_order
    assert withdrawn.status == pb.CHANGE_ORDER_STATUS_WITHDRAWN
    err = await site.fails(PRECONDITION, "ApproveChangeOrder", site.approval(sent), site.approver)
    assert "withdrawn" in err.details()
    (event,) = await site.svc.events(site.tenant_id, events_pb2.ChangeOrderWithdrawn)
    assert event.reason == "Client chose another room"


async def test_an_order_priced_on_an_older_contract_waits_for_a_revision(site: Site):
    first, second = await site.sent(), await site.sent(subwoofer(quantity=2))
    await site.approve(first)
    err = await site.fails(PRECONDITION, "ApproveChangeOrder", site.approval(second), site.approver)
    assert "contract changed" in err.details()
    rebased = await revise(site, second.id)
    assert rebased.diff.before.total == first.diff.after.total
    resent = await site.send(second.id)
    assert (await site.approve(resent)).status == APPROVED


async def revise(site: Site, order_id: str, *changes: pb.LineChange, **kw) -> pb.ChangeOrder:
    request = pb.ReviseChangeOrderRequest(
        request_id=str(uuid.uuid4()), change_order_id=order_id, changes=list(changes), **kw
    )
    return (await site("ReviseChangeOrder", request, site.pm)).change_order


async def push_back(site: Site, order: pb.ChangeOrder, **kw) -> pb.ChangeOrder:
    request = pb.PushBackChangeOrderRequest(
        request_id=kw.pop("request_id", str(uuid.uuid4())),
        change_order_id=order.id,
        revision=order.revision,
        author_name="Jane Harrison",
        **kw,
    )
    return (
        await site("PushBackChangeOrder", request, kw.pop("principal", site.approver))
    ).change_order


async def test_push_back_on_a_line_then_staff_revise_and_the_client_approves_revision_2(site: Site):
    sent = await site.sent(subwoofer(), pb.LineChange(kind=QUANTITY, line_key="R1.1", quantity=3))
    back = await push_back(
        site,
        sent,
        comment="Happy with the subwoofer.",
        line_comments=[pb.LineComment(line_key="R1.1", comment="We only need two soundbars.")],
    )
    assert back.status == PUSHED_BACK
    said = [(c.line_key, c.author_kind, c.body) for c in back.comments]
    assert said == [
        ("", "client", "Happy with the subwoofer."),
        ("R1.1", "client", "We only need two soundbars."),
    ]
    assert back.comments[1].line_description.startswith("Sonos Arc")
    (event,) = await site.svc.events(site.tenant_id, events_pb2.ChangeOrderPushedBack)
    assert list(event.line_keys) == ["R1.1"] and event.revision == 1
    await site.fails(PRECONDITION, "ApproveChangeOrder", site.approval(sent), site.approver)

    revised = await revise(site, sent.id, subwoofer(), comment="Soundbars left as they were.")
    assert (await site.svc.events(site.tenant_id, events_pb2.ChangeOrderRevised))[0].revision == 2
    second = await site.send(sent.id)
    assert (second.revision, len(second.comments)) == (2, 3)
    assert second.comments[-1].author_kind == "staff"
    # Staff read who wrote each comment (the console names a staff author from
    # identity by it); a client reads no one's id.
    *clients, staff = [c.author_id for c in second.comments]
    assert clients == [site.approver.subject] * 2
    assert uuid.UUID(staff)  # the staff user who revised (site.pm is a new one each time)
    as_client = await site.get(sent.id, site.approver)
    assert [c.author_id for c in as_client.comments] == ["", "", ""]
    compared = await site(
        "CompareRevisions",
        pb.CompareRevisionsRequest(change_order_id=sent.id, from_revision=1, to_revision=2),
        site.approver,
    )
    assert [(x.line_key, x.kind_from, x.kind_to) for x in compared.lines] == [
        ("R1.1", pb.LINE_CHANGE_KIND_QUANTITY, pb.LINE_CHANGE_KIND_UNCHANGED)
    ]
    assert compared.price_impact_to.amount_minor < compared.price_impact_from.amount_minor
    assert revised.revision == 2
    order = await site.approve(second)
    assert (order.status, order.signature.revision) == (APPROVED, 2)
    assert [r.status for r in order.revisions] == [SUPERSEDED, APPROVED]


async def test_push_back_needs_something_said_on_lines_the_client_was_shown(site: Site):
    sent = await site.sent(pb.LineChange(kind=QUANTITY, line_key="R1.2", quantity=8))
    err = await site.fails(
        INVALID,
        "PushBackChangeOrder",
        pb.PushBackChangeOrderRequest(change_order_id=sent.id, revision=1),
        site.approver,
    )
    assert "say what you would like changed" in err.details()
    hidden = pb.PushBackChangeOrderRequest(
        change_order_id=sent.id,
        revision=1,
        line_comments=[pb.LineComment(line_key="R1.2", comment="What is this?")],
    )
    await site.fails(INVALID, "PushBackChangeOrder", hidden, site.approver)  # not itemised
    viewer = pb.PushBackChangeOrderRequest(change_order_id=sent.id, revision=1, comment="No")
    await site.fails(DENIED, "PushBackChangeOrder", viewer, site.viewer)


async def test_a_push_back_retried_with_its_request_id_lands_once(site: Site):
    sent = await site.sent()
    first = await push_back(site, sent, comment="Too dear", request_id="pb-1")
    again = await push_back(site, sent, comment="Too dear", request_id="pb-1")
    assert len(again.comments) == len(first.comments) == 1


@pytest.mark.parametrize("status_after", ["approved", "pushed_back"])
async def test_a_decided_order_is_not_decided_again(site: Site, status_after: str):
    sent = await site.sent()
    if status_after == "approved":
        await site.approve(sent)
    else:
        await push_back(site, sent, comment="Not now")
    await site.fails(PRECONDITION, "ApproveChangeOrder", site.approval(sent), site.approver)
    request = pb.PushBackChangeOrderRequest(change_order_id=sent.id, revision=1, comment="x")
    await site.fails(PRECONDITION, "PushBackChangeOrder", request, site.approver)


async def test_the_same_revision_sent_twice_at_once_is_made_once(site: Site):
    sent = await site.sent()
    request = pb.ReviseChangeOrderRequest(request_id="rev-race", change_order_id=sent.id)
    answers = await asyncio.gather(*(site("ReviseChangeOrder", request, site.pm) for _ in range(3)))
    assert {a.change_order.revision for a in answers} == {2}
    rows = await site.svc.sql(
        site.tenant_id,
        "SELECT count(*) FROM change_order_revision WHERE change_order_id = :i",
        i=sent.id,
    )
    assert rows == [(2,)]

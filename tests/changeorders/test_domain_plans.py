"""What approving, pushing back and revising write, planned without a
database: the signature kept, the contract one version on, the thread's
comments, the audit facts, what a revision carries over. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.changeorders import domain_approval as da
from services.changeorders import domain_orders as do
from services.changeorders import domain_push_back as dp
from services.changeorders import domain_revising as dr
from services.changeorders.domain_changes import ChangeKind, LineChange
from services.changeorders.domain_diff import build_diff, client_diff
from services.changeorders.domain_orders import Status
from services.changeorders.domain_schedule import Schedule, stage_moves
from services.chassis.errors import InvalidArgument, InvalidTransition
from tests.changeorders.test_domain_changes import CONTRACT

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)
SUB = LineChange(
    ChangeKind.ADDED, room_key="R1", description="Subwoofer", quantity=1, unit_price_minor=129_900
)
FEWER = LineChange(ChangeKind.QUANTITY, line_key="R1.2", quantity=2)  # a hidden line


# -- approve ---------------------------------------------------------------------------


def shown(**kw: Any) -> da.Shown:
    values: dict[str, Any] = {
        "number": "CO-002",
        "revision": 1,
        "current_revision": 1,
        "status": Status.VIEWED,
        "deadline": LATER,
        "content_sha256": "a" * 64,
        "consent_text": do.CONSENT_TEXT,
        "viewed_at": NOW - timedelta(minutes=5),
        "baseline": CONTRACT.as_dict(),
        "baseline_version": 1,
        "changes": [SUB.as_dict(), FEWER.as_dict()],
    } | kw
    return da.Shown(**values)


SIGNING = da.Signing(
    request_id="r1",
    consent=True,
    signer_name=" Jane  Harrison ",
    content_sha256="A" * 64,
    ip="203.0.113.9",
    user_agent="Mozilla/5.0",
    auth_method="magic_link",
    consented_at=NOW - timedelta(minutes=1),
    signer_email="  jane@example.com " + "x" * 400,
    client_name=" Harrison family ",
    contact_id="contact-1",
    session_id="session-1",
)


def approve(state: da.Shown | None = None, signing: da.Signing = SIGNING, **kw: Any) -> da.Approve:
    values: dict[str, Any] = {
        "earlier": da.Earlier(),
        "contract_version": 1,
        "signed_total_minor": 341_755,
        "now": NOW,
    } | kw
    plan = da.plan_approve(state or shown(), signing, **values)
    assert plan is not None
    return plan


def test_approving_applies_the_lines_to_the_contract_they_were_priced_on_one_version_on():
    plan = approve()
    after, diff = build_diff(CONTRACT, [SUB, FEWER], key_prefix="CO-002", signed_total_minor=0)
    assert plan.contract == after and plan.contract_version == 2
    assert plan.diff.impact_minor == diff.impact_minor != 0
    assert plan.diff.signed_total_minor == 341_755
    assert [x.description for x in plan.contract.rooms[0].lines][-1] == "Subwoofer"
    assert plan.contract.find("CO-002.1") is not None


def test_the_signature_keeps_the_cleaned_evidence_and_who_signed():
    kept = approve().signature
    assert (kept.signer_name, kept.signer_contact_id, kept.session_id) == (
        "Jane Harrison",
        "contact-1",
        "session-1",
    )
    assert kept.signer_email.startswith("jane@example.com") and len(kept.signer_email) == 320
    assert kept.client_name == "Harrison family"
    assert (kept.signed_at, kept.consented_at) == (NOW, NOW - timedelta(minutes=1))
    assert kept.viewed_at == NOW - timedelta(minutes=5)
    # What was stored when sent is what is kept, not the case the browser sent.
    assert kept.content_sha256 == "a" * 64 and kept.consent_text == do.CONSENT_TEXT


def test_the_audit_entry_holds_the_whole_signature_and_the_contract_version():
    plan = approve()
    assert plan.facts == {
        "signer_name": "Jane Harrison",
        "signer_contact_id": "contact-1",
        "signer_email": plan.signature.signer_email,
        "auth_method": "magic_link",
        "session_id": "session-1",
        "consent_text": do.CONSENT_TEXT,
        "viewed_at": (NOW - timedelta(minutes=5)).isoformat(),
        "consented_at": (NOW - timedelta(minutes=1)).isoformat(),
        "signed_at": NOW.isoformat(),
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0",
        "content_sha256": "a" * 64,
        "price_impact_minor": plan.diff.impact_minor,
        "contract_version": 2,
    }


def test_the_request_that_approved_it_is_answered_again_and_writes_nothing():
    done = shown(status=Status.APPROVED)
    assert (
        da.plan_approve(
            done,
            SIGNING,
            earlier=da.Earlier(approved_by_request="r1"),
            contract_version=2,
            signed_total_minor=0,
            now=NOW,
        )
        is None
    )
    with pytest.raises(InvalidTransition, match="already been approved"):
        approve(done, replace(SIGNING, request_id="r2"), earlier=da.Earlier("r1"))


@pytest.mark.parametrize(
    ("state", "kw", "field"),
    [
        (shown(revision=1, current_revision=2), {}, "revision"),
        (shown(status=Status.SUPERSEDED), {}, "revision"),
        (shown(deadline=NOW), {}, "change_order_id"),
        (shown(status=Status.WITHDRAWN), {}, "change_order_id"),
        (shown(baseline_version=1), {"contract_version": 2}, "change_order_id"),
        (shown(content_sha256="b" * 64), {}, "content_sha256"),
    ],
)
def test_an_approval_the_state_refuses_names_the_field(state, kw, field):
    with pytest.raises(InvalidTransition) as refused:
        approve(state, **kw)
    assert refused.value.field == field


# -- push back -------------------------------------------------------------------------


def content_json() -> str:
    _, diff = build_diff(CONTRACT, [SUB], key_prefix="CO-002", signed_total_minor=341_755)
    return do.SignedContent(
        number="CO-002",
        revision=1,
        project_reference="PRJ-0007",
        project_name="Cinema",
        title="Subwoofer",
        reason="Bigger room",
        diff=client_diff(diff),
        schedule=Schedule(0, ""),
        stages=stage_moves([], Schedule(0, "")),
        approval_deadline=LATER.isoformat(),
        consent_text=do.CONSENT_TEXT,
    ).canonical_json()


WAITING = dp.Waiting(
    number="CO-002",
    revision=1,
    current_revision=1,
    status=Status.SENT,
    deadline=LATER,
    decided_by_request="",
    content_json=content_json(),
)


def push_back(waiting: dp.Waiting = WAITING, **kw: Any) -> dp.PushBackPlan | None:
    values: dict[str, Any] = {
        "request_id": "p1",
        "comment": "",
        "line_comments": [("CO-002.1", "A smaller one")],
        "author_name": "  Jane \n Harrison ",
        "now": NOW,
    } | kw
    return dp.plan_push_back(waiting, **values)


def test_a_push_back_writes_each_comment_with_the_words_the_client_read():
    plan = push_back(comment="Too dear overall", line_comments=[("R1.1", "Keep one")])
    assert plan is not None
    assert plan.comments == (
        dp.Said("", "", "Too dear overall"),
        dp.Said("R1.1", "Sonos Arc - Soundbar", "Keep one"),
    )
    assert plan.author_name == "Jane Harrison" and plan.project_reference == "PRJ-0007"
    assert plan.line_keys == ["R1.1"]
    assert plan.facts == {
        "comment": "Too dear overall",
        "line_comments": [["R1.1", "Keep one"]],
        "author_name": "Jane Harrison",
    }


def test_a_push_back_cannot_name_a_hidden_line():
    # R1.2 is internal: the client read it folded into "other items".
    with pytest.raises(InvalidArgument, match=r"no line 'R1\.2'") as refused:
        push_back(line_comments=[("R1.2", "What is this?")])
    assert refused.value.field == "line_comments[0].line_key"


def test_the_request_that_pushed_back_is_answered_again_another_is_refused():
    decided = replace(WAITING, status=Status.PUSHED_BACK, decided_by_request="p1")
    assert push_back(decided) is None
    with pytest.raises(InvalidTransition, match="will send a revision"):
        push_back(decided, request_id="p2")


def test_a_push_back_on_a_replaced_or_overdue_revision_is_refused():
    with pytest.raises(InvalidTransition, match="replaced by revision 2"):
        push_back(replace(WAITING, current_revision=2))
    with pytest.raises(InvalidTransition, match="deadline"):
        push_back(now=LATER)


@given(st.text(max_size=30))
def test_the_author_name_is_kept_on_one_line_at_most_200_characters(name):
    plan = push_back(author_name=name * 20)
    assert plan is not None
    assert len(plan.author_name) <= 200
    assert "\n" not in plan.author_name and plan.author_name == plan.author_name.strip()


# -- revise ----------------------------------------------------------------------------


CURRENT = dr.Current(
    number="CO-002",
    revision=2,
    status=Status.PUSHED_BACK,
    title="Subwoofer",
    reason="Bigger room",
    changes=[SUB.as_dict()],
    schedule_days=3,
    shift_from="install",
    deadline=LATER,
)


def revise(current: dr.Current = CURRENT, asked: dr.Asked | None = None, **kw: Any):
    values: dict[str, Any] = {"answer": "", "now": NOW} | kw
    return dr.plan_revision(current, asked or dr.Asked(), **values)


def test_a_revision_left_empty_carries_everything_over_and_supersedes_the_current_one():
    plan = revise(answer="Dropped to one")
    assert (plan.revision, plan.superseded) == (3, 2)
    assert (plan.title, plan.reason, plan.changes) == ("Subwoofer", "Bigger room", (SUB,))
    assert (plan.schedule, plan.deadline, plan.at) == (Schedule(3, "install"), LATER, NOW)
    assert plan.facts({"title": "Subwoofer"}) == {
        "title": "Subwoofer",
        "superseded_revision": 2,
        "comment": "Dropped to one",
    }


def test_a_passed_deadline_is_not_carried_over_a_far_one_is_refused():
    assert revise(replace(CURRENT, deadline=NOW)).deadline is None
    assert revise(asked=dr.Asked(deadline=NOW - timedelta(days=1))).deadline is None
    with pytest.raises(InvalidArgument, match="a year") as refused:
        revise(asked=dr.Asked(deadline=NOW + timedelta(days=400)))
    assert refused.value.field == "approval_deadline"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.DRAFT, "still a draft"),
        (Status.APPROVED, "raise a new change order"),
        (Status.WITHDRAWN, "cannot be revised"),
        (Status.SUPERSEDED, "cannot be revised"),
    ],
)
def test_only_an_order_the_client_was_sent_and_has_not_approved_is_revised(status, words):
    with pytest.raises(InvalidTransition, match=words):
        revise(replace(CURRENT, status=status))


def test_the_request_is_checked_once_the_order_may_be_revised():
    # An approved order: the words say why it cannot be revised, not what is wrong with the title.
    with pytest.raises(InvalidTransition):
        revise(replace(CURRENT, status=Status.APPROVED), dr.Asked(title="x" * 500))
    with pytest.raises(InvalidArgument) as refused:
        revise(asked=dr.Asked(title="x" * 500))
    assert refused.value.field == "title"
    with pytest.raises(InvalidArgument) as refused:
        dr.check_answer("x" * 2_001)
    assert refused.value.field == "comment"


@given(
    title=st.sampled_from(["", "Two subwoofers"]),
    reason=st.sampled_from(["", "The room is bigger than measured"]),
    changes=st.sampled_from([(), (FEWER,)]),
    days=st.none() | st.integers(min_value=-365, max_value=365),
    shift_from=st.sampled_from(["", "design", "commissioning"]),
    deadline=st.none() | st.sampled_from([NOW + timedelta(days=1), NOW + timedelta(days=30)]),
)
def test_each_part_is_the_one_given_or_else_the_current_revisions(
    title, reason, changes, days, shift_from, deadline
):
    asked = dr.Asked(title, reason, changes, days, shift_from, deadline)
    plan = revise(asked=asked)
    assert plan.title == (title or CURRENT.title)
    assert plan.reason == (reason or CURRENT.reason)
    assert plan.changes == (changes or (SUB,))
    kept_days = CURRENT.schedule_days if days is None else days
    # No days move no stage, whichever was named.
    assert plan.schedule == (
        Schedule(kept_days, shift_from or "install") if kept_days else Schedule()
    )
    assert plan.deadline == (deadline or CURRENT.deadline)


# -- send ------------------------------------------------------------------------------


def test_a_draft_is_sent_with_a_deadline_in_the_coming_year():
    send: dict[str, Any] = {"status": Status.DRAFT, "number": "CO-002", "revision": 1, "now": NOW}
    assert do.plan_send(**send, deadline=LATER) == LATER
    with pytest.raises(InvalidArgument, match="before sending") as refused:
        do.plan_send(**send, deadline=None)
    assert refused.value.field == "approval_deadline"
    with pytest.raises(InvalidArgument, match="a year"):
        do.plan_send(**send, deadline=NOW + timedelta(days=366))
    with pytest.raises(InvalidTransition, match="only a draft is sent"):
        do.plan_send(**(send | {"status": Status.SENT}), deadline=LATER)


def test_the_sent_entry_keeps_the_content_and_the_hash_of_what_will_be_signed():
    facts = do.sent_facts({"title": "Subwoofer"}, content_sha256="c" * 64, consent_text="I agree")
    assert facts == {"title": "Subwoofer", "content_sha256": "c" * 64, "consent_text": "I agree"}

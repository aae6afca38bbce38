"""Statuses and their moves, the approval's evidence and one-time rule, and
the audit chain's verification. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.changeorders import domain_approval as da
from services.changeorders import domain_audit as audit
from services.changeorders import domain_orders as do
from services.changeorders import domain_push_back as dp
from services.changeorders.domain_orders import Status
from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.idempotency import IdempotencyKeyReused

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)


def test_numbers_and_deadlines():
    assert (do.format_number(3), do.format_number(1234)) == ("CO-003", "CO-1234")
    with pytest.raises(InvalidArgument, match="future"):
        do.check_deadline(NOW, NOW, required=False)
    with pytest.raises(InvalidArgument, match="a year"):
        do.check_deadline(NOW + timedelta(days=400), NOW, required=False)
    with pytest.raises(InvalidArgument, match="before sending"):
        do.check_deadline(None, NOW, required=True)
    assert do.check_deadline(LATER, NOW, required=True) == LATER


@pytest.mark.parametrize(
    ("status", "revision", "deadline", "words"),
    [
        (Status.SUPERSEDED, 1, LATER, "replaced by revision 2"),
        (Status.SENT, 1, LATER, "replaced by revision 2"),  # an older revision, whatever it says
        (Status.WITHDRAWN, 2, LATER, "withdrawn"),
        (Status.EXPIRED, 2, LATER, "deadline"),
        (Status.VIEWED, 2, NOW, "deadline"),  # due this instant: the job has not run yet
        (Status.APPROVED, 2, LATER, "already been approved"),
        (Status.PUSHED_BACK, 2, LATER, "send a revision"),
        (Status.DRAFT, 2, LATER, "not been sent"),
    ],
)
def test_a_decision_is_refused_with_words_a_person_can_act_on(status, revision, deadline, words):
    with pytest.raises(InvalidTransition, match=words):
        do.check_decision(
            action="approve it",
            status=status,
            number="CO-003",
            revision=revision,
            current_revision=2,
            deadline=deadline,
            now=NOW,
        )


def test_what_may_be_revised_and_withdrawn():
    for status in (Status.SENT, Status.VIEWED, Status.PUSHED_BACK, Status.EXPIRED):
        do.check_revise(status=status, number="CO-001")
        do.check_withdraw(status=status, number="CO-001")
    with pytest.raises(InvalidTransition, match="raise a new change order"):
        do.check_revise(status=Status.APPROVED, number="CO-001")
    with pytest.raises(InvalidTransition, match="no longer be withdrawn"):
        do.check_withdraw(status=Status.APPROVED, number="CO-001")
    assert do.is_overdue(Status.SENT, NOW, NOW) and not do.is_overdue(Status.PUSHED_BACK, NOW, NOW)


def plan(**kw: Any) -> da.ApprovalPlan:
    values: dict[str, Any] = {
        "request_id": "r1",
        "earlier": da.Earlier(),
        "status": Status.VIEWED,
        "number": "CO-001",
        "revision": 1,
        "current_revision": 1,
        "deadline": LATER,
        "now": NOW,
        "baseline_current": True,
        "stored_sha256": "a" * 64,
        "given_sha256": "A" * 64,
        "consent": True,
        "signer_name": "  Jane   Harrison ",
        "ip": "2001:db8::0:1",
        "user_agent": "Mozilla\x00/5.0",
        "auth_method": "password",
        "viewed_at": NOW - timedelta(minutes=5),
        "consented_at": NOW - timedelta(minutes=1),
    } | kw
    return da.plan_approval(**values)


def test_the_evidence_is_cleaned_for_keeping():
    evidence = plan().evidence
    assert evidence is not None
    assert (evidence.signer_name, evidence.ip, evidence.user_agent) == (
        "Jane Harrison",
        "2001:db8::1",
        "Mozilla/5.0",
    )
    assert evidence.consented_at == NOW - timedelta(minutes=1)


def test_the_consent_time_stays_between_the_first_view_and_the_signature():
    viewed = NOW - timedelta(minutes=5)
    assert da.consent_time(NOW + timedelta(hours=1), viewed_at=viewed, now=NOW) == NOW
    assert da.consent_time(viewed - timedelta(days=1), viewed_at=viewed, now=NOW) == viewed
    assert da.consent_time(None, viewed_at=viewed, now=NOW) == NOW


def test_approving_is_once():
    done = da.Earlier(approved_by_request="r1")
    assert plan(status=Status.APPROVED, earlier=done).retry
    with pytest.raises(InvalidTransition, match="already been approved"):
        plan(status=Status.APPROVED, earlier=done, request_id="r2")
    with pytest.raises(IdempotencyKeyReused):
        plan(earlier=da.Earlier(request_id_taken=True))


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"baseline_current": False}, InvalidTransition, "contract changed"),
        ({"consent": False}, InvalidArgument, "tick the box"),
        ({"signer_name": "J"}, InvalidArgument, "full name"),
        ({"given_sha256": "b" * 64}, InvalidTransition, "reload"),
        ({"ip": "not-an-ip"}, InvalidArgument, "IPv4"),
    ],
)
def test_an_approval_without_what_it_needs_is_refused(change, error, words):
    with pytest.raises(error, match=words):
        plan(**change)


def push_back(**kw: Any) -> dp.PushBack:
    values: dict[str, Any] = {
        "status": Status.SENT,
        "number": "CO-001",
        "revision": 1,
        "current_revision": 1,
        "deadline": LATER,
        "now": NOW,
        "comment": "",
        "line_comments": [("R1.1", "Two is enough")],
        "line_keys": {"R1.1", "CO-001.1"},
    } | kw
    return dp.check_push_back(**values)


def test_a_push_back_names_lines_the_client_was_shown_once_each():
    assert push_back().line_comments == (("R1.1", "Two is enough"),)
    with pytest.raises(InvalidArgument, match=r"no line 'R2\.1'"):
        push_back(line_comments=[("R2.1", "what is this")])
    with pytest.raises(InvalidArgument, match="one comment per line"):
        push_back(line_comments=[("R1.1", "a"), ("R1.1", "b")])
    with pytest.raises(InvalidArgument, match="say what"):
        push_back(line_comments=[])
    assert push_back(comment="Too dear", line_comments=[]).comment == "Too dear"


def chain(n: int = 3) -> list[audit.Entry]:
    entries: list[audit.Entry] = []
    for i in range(n):
        entries.append(
            audit.next_entry(
                entries[-1] if entries else None,
                change_order_id="co-1",
                action=["created", "sent", "approved"][i % 3],
                actor="staff:1",
                revision=1,
                occurred_at=NOW + timedelta(seconds=i, microseconds=7),
                facts={"n": i, "words": "Café"},
            )
        )
    return entries


def test_an_intact_chain_verifies():
    entries = chain()
    assert entries[0].prev_sha256 == audit.GENESIS
    assert entries[1].prev_sha256 == entries[0].sha256
    assert audit.verify("co-1", entries).intact


@pytest.mark.parametrize(
    ("tamper", "broken_at", "words"),
    [
        (lambda e: [e[0], replace(e[1], facts={"n": 99, "words": "Café"}), e[2]], 2, "changed"),
        (lambda e: [e[0], replace(e[1], occurred_at=NOW), e[2]], 2, "changed"),
        (lambda e: [e[0], e[2]], 2, "missing"),
        (lambda e: [e[1], e[0], e[2]], 1, "missing"),
        (lambda e: [e[0], e[1], replace(e[2], prev_sha256="f" * 64)], 3, "link"),
        (lambda e: [e[0], replace(e[1], change_order_id="co-2"), e[2]], 2, "another"),
        (lambda e: [], 1, "no audit entries"),
    ],
)
def test_verify_finds_the_first_broken_link(tamper, broken_at, words):
    verdict = audit.verify("co-1", tamper(chain()))
    assert (verdict.intact, verdict.broken_at) == (False, broken_at)
    assert words in verdict.problem


def test_an_edit_with_its_hash_recomputed_still_breaks_the_next_link():
    entries = chain()
    forged = replace(entries[1], facts={"n": 42})
    forged = replace(forged, sha256=audit.entry_hash(forged))
    verdict = audit.verify("co-1", [entries[0], forged, entries[2]])
    assert verdict.broken_at == 3


def test_the_signed_content_round_trips_and_its_hash_is_of_the_canonical_json():
    from services.changeorders.domain_changes import ChangeKind, LineChange
    from services.changeorders.domain_diff import build_diff, client_diff
    from services.changeorders.domain_schedule import Schedule, stage_moves
    from tests.changeorders.test_domain_changes import CONTRACT

    change = LineChange(
        ChangeKind.ADDED, room_key="R1", description="Sub", quantity=1, unit_price_minor=5
    )
    _, diff = build_diff(CONTRACT, [change], key_prefix="CO-001", signed_total_minor=9)
    content = do.SignedContent(
        number="CO-001",
        revision=2,
        project_reference="PRJ-0001",
        project_name="Café cinema",
        title="Sub",
        reason="Bigger room",
        diff=client_diff(diff),
        schedule=Schedule(2, "install"),
        stages=stage_moves([], Schedule(2, "install")),
        approval_deadline=LATER.isoformat(),
        consent_text=do.CONSENT_TEXT,
    )
    text = content.canonical_json()
    assert "Café" in text and ": " not in text
    assert do.SignedContent.from_json(text) == content
    assert content.sha256() == do.sha256_hex(text)
    with pytest.raises(ValueError, match="format"):
        do.SignedContent.from_dict({"format": "other/1"})

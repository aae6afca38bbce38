"""A change order's life: numbers, statuses and the rules of each move, and
the content a client is shown and signs (canonical JSON and its SHA-256).
Pure: no I/O, the clock passed in.

A change order is numbered per project (CO-001) and has revisions; each
revision has its own status. Revising supersedes the current revision and
starts a draft; only the current revision can be sent, approved or pushed back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from services.changeorders.domain_diff import Diff, diff_as_dict, diff_from_dict
from services.changeorders.domain_schedule import (
    Schedule,
    StageMove,
    moves_as_dicts,
    moves_from_dicts,
)
from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.esign import canonical_json, sha256_hex
from services.chassis.validation import multiline_text, require_text

# What the client agrees to by typing their name; shown before the name is
# asked, frozen into the content when sent and kept with the signature. A new
# wording is a new version: never edit one in place.
CONSENT_TEXT_V1 = (
    "I approve this change to our contract, its price and schedule impact, and agree "
    "that typing my name is my electronic signature."
)
CONSENT_TEXT = CONSENT_TEXT_V1
# Names the layout of the signed content; changes with it, so old hashes stay checkable.
CONTENT_FORMAT = "portal.changeorders.change_order/1"
TITLE_MAX = 200
REASON_MAX = 5_000
MAX_DEADLINE = timedelta(days=365)


class Status(IntEnum):
    """Values match the proto enum."""

    DRAFT = 1
    SENT = 2
    VIEWED = 3
    APPROVED = 4
    PUSHED_BACK = 5
    WITHDRAWN = 6
    EXPIRED = 7
    SUPERSEDED = 8

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


# Sent and waiting for the client's decision.
AWAITING = frozenset({Status.SENT, Status.VIEWED})
REVISABLE = frozenset({Status.SENT, Status.VIEWED, Status.PUSHED_BACK, Status.EXPIRED})
WITHDRAWABLE = frozenset({Status.DRAFT, *REVISABLE})


def format_number(n: int) -> str:
    return f"CO-{n:03d}"


def check_title(title: str) -> str:
    return require_text(title, field="title", max_len=TITLE_MAX)


def check_reason(reason: str) -> str:
    return multiline_text(reason, field="reason", max_len=REASON_MAX, required=True)


def check_deadline(deadline: datetime | None, now: datetime, *, required: bool) -> datetime | None:
    if deadline is None:
        if required:
            raise InvalidArgument(
                "set an approval deadline before sending the change order",
                field="approval_deadline",
            )
        return None
    if deadline <= now:
        raise InvalidArgument(
            "the approval deadline has to be in the future", field="approval_deadline"
        )
    if deadline > now + MAX_DEADLINE:
        raise InvalidArgument(
            "the approval deadline is at most a year away", field="approval_deadline"
        )
    return deadline


def require_draft(status: int, number: str, revision: int) -> None:
    if status != Status.DRAFT:
        raise InvalidTransition(
            f"{number} revision {revision} is {Status(status).label}: only a draft can be "
            "changed; revise it instead",
            field="change_order_id",
        )


def check_send(*, status: int, number: str, revision: int) -> None:
    if status != Status.DRAFT:
        raise InvalidTransition(
            f"{number} revision {revision} is {Status(status).label}; only a draft is sent",
            field="change_order_id",
        )


def plan_send(
    *, status: int, number: str, revision: int, deadline: datetime | None, now: datetime
) -> datetime:
    """May this revision go to the client now: a draft, with a deadline in the
    coming year. Returns the deadline it will wait until."""
    check_send(status=status, number=number, revision=revision)
    kept = check_deadline(deadline, now, required=True)
    assert kept is not None  # required: None is refused
    return kept


def sent_facts(
    content: Mapping[str, Any], *, content_sha256: str, consent_text: str
) -> dict[str, Any]:
    """The `sent` audit entry: the revision's content as priced, and the hash
    and consent words of what the client will sign."""
    return {**content, "content_sha256": content_sha256, "consent_text": consent_text}


def check_revise(*, status: int, number: str) -> None:
    if status in REVISABLE:
        return
    if status == Status.DRAFT:
        raise InvalidTransition(
            f"{number} is still a draft: change it before sending, no revision is needed",
            field="change_order_id",
        )
    if status == Status.APPROVED:
        raise InvalidTransition(
            f"{number} has been approved and is part of the contract; raise a new change order",
            field="change_order_id",
        )
    raise InvalidTransition(
        f"{number} is {Status(status).label} and cannot be revised", field="change_order_id"
    )


def check_withdraw(*, status: int, number: str) -> None:
    if status not in WITHDRAWABLE:
        raise InvalidTransition(
            f"{number} is {Status(status).label} and can no longer be withdrawn",
            field="change_order_id",
        )


def check_decision(
    *,
    action: str,
    status: int,
    number: str,
    revision: int,
    current_revision: int,
    deadline: datetime | None,
    now: datetime,
) -> None:
    """May the client approve or push back on this revision now? The words
    say what happened and what to do, for the page to show as they are."""
    if revision != current_revision or status == Status.SUPERSEDED:
        raise InvalidTransition(
            f"revision {revision} of {number} has been replaced by revision {current_revision}; "
            f"review the latest revision before you {action}",
            field="revision",
        )
    if status == Status.WITHDRAWN:
        raise InvalidTransition(
            f"{number} has been withdrawn by the integrator; there is nothing to {action}",
            field="change_order_id",
        )
    if status == Status.EXPIRED or (
        status in AWAITING and deadline is not None and now >= deadline
    ):
        raise InvalidTransition(
            f"the deadline to approve {number} has passed; ask the integrator to send it again",
            field="change_order_id",
        )
    if status == Status.APPROVED:
        raise InvalidTransition(f"{number} has already been approved", field="change_order_id")
    if status == Status.PUSHED_BACK:
        raise InvalidTransition(
            f"you pushed back on {number}; the integrator will send a revision",
            field="change_order_id",
        )
    if status not in AWAITING:
        raise InvalidTransition(f"{number} has not been sent", field="change_order_id")


def is_overdue(status: int, deadline: datetime | None, now: datetime) -> bool:
    """Waiting for the client past its deadline: the expiry job's question."""
    return status in AWAITING and deadline is not None and now >= deadline


def client_may_see(sent_at: datetime | None) -> bool:
    """Clients see a revision once it has been sent, whatever became of it."""
    return sent_at is not None


# -- the content the client signs ------------------------------------------------------


@dataclass(frozen=True)
class SignedContent:
    """Exactly what the client is shown and approves. Its canonical JSON is
    what is hashed, stored when the revision is sent, and read back for the
    client's page and the evidence."""

    number: str
    revision: int
    project_reference: str
    project_name: str
    title: str
    reason: str
    diff: Diff  # the client's view (hidden lines in other items)
    schedule: Schedule
    stages: tuple[StageMove, ...]
    approval_deadline: str  # ISO 8601, UTC
    consent_text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": CONTENT_FORMAT,
            "number": self.number,
            "revision": self.revision,
            "project": {"reference": self.project_reference, "name": self.project_name},
            "title": self.title,
            "reason": self.reason,
            "diff": diff_as_dict(self.diff),
            "schedule": {"days": self.schedule.days, "shift_from": self.schedule.shift_from},
            "stages": moves_as_dicts(self.stages),
            "approval_deadline": self.approval_deadline,
            "consent_text": self.consent_text,
        }

    def canonical_json(self) -> str:
        return canonical_json(self.as_dict())

    def sha256(self) -> str:
        return sha256_hex(self.canonical_json())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignedContent:
        if data.get("format") != CONTENT_FORMAT:
            raise ValueError(f"unknown change order content format: {data.get('format')!r}")
        return cls(
            number=data["number"],
            revision=data["revision"],
            project_reference=data["project"]["reference"],
            project_name=data["project"]["name"],
            title=data["title"],
            reason=data["reason"],
            diff=diff_from_dict(data["diff"]),
            schedule=Schedule(data["schedule"]["days"], data["schedule"]["shift_from"]),
            stages=moves_from_dicts(data["stages"]),
            approval_deadline=data["approval_deadline"],
            consent_text=data["consent_text"],
        )

    @classmethod
    def from_json(cls, text: str) -> SignedContent:
        return cls.from_dict(json.loads(text))


def waiting_title(number: str) -> str:
    return f"Review and approve change order {number}"

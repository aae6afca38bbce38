"""The client's decision on a change order: an approval with an e-signature
(the evidence cleaned for keeping), or a push-back with comments on the whole
order or on its lines. Pure: no I/O, the clock passed in.

One time: the request that approved an order, sent again, is answered with
the approved order; any other approval of it is refused, as is a request id
already spent on another order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.changeorders.domain_orders import Status, check_decision
from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.esign import check_ip, check_signer_name, clean_user_agent
from services.chassis.idempotency import IdempotencyKeyReused
from services.chassis.validation import multiline_text

AUTH_METHOD_MAX = 40
COMMENT_MAX = 2_000
MAX_LINE_COMMENTS = 100


@dataclass(frozen=True)
class Evidence:
    signer_name: str
    ip: str
    user_agent: str
    auth_method: str
    consented_at: datetime


@dataclass(frozen=True)
class Earlier:
    """What earlier requests left: the request id that approved this order (if
    it is approved), and whether this request id approved another order."""

    approved_by_request: str | None = None
    request_id_taken: bool = False


@dataclass(frozen=True)
class ApprovalPlan:
    """Sign with `evidence`, or (none) answer a retry with the order as it is."""

    evidence: Evidence | None

    @property
    def retry(self) -> bool:
        return self.evidence is None


def plan_approval(
    *,
    request_id: str,
    earlier: Earlier,
    status: int,
    number: str,
    revision: int,
    current_revision: int,
    deadline: datetime | None,
    now: datetime,
    baseline_current: bool,
    stored_sha256: str,
    given_sha256: str,
    consent: bool,
    signer_name: str,
    ip: str,
    user_agent: str,
    auth_method: str,
    viewed_at: datetime | None,
    consented_at: datetime | None,
) -> ApprovalPlan:
    if status == Status.APPROVED and earlier.approved_by_request == request_id:
        return ApprovalPlan(evidence=None)
    if status != Status.APPROVED and earlier.request_id_taken:
        raise IdempotencyKeyReused(
            "this request id (Idempotency-Key) was already used to approve another change "
            "order; send a new key with each new request",
            field="request_id",
        )
    check_decision(
        action="approve it",
        status=status,
        number=number,
        revision=revision,
        current_revision=current_revision,
        deadline=deadline,
        now=now,
    )
    if not baseline_current:
        raise InvalidTransition(
            f"the contract changed after {number} was sent (another change order was "
            "approved), so its prices are out of date; the integrator will send a revision",
            field="change_order_id",
        )
    if not consent:
        raise InvalidArgument("tick the box to agree before signing", field="consent")
    name = check_signer_name(signer_name)
    if given_sha256.strip().lower() != stored_sha256:
        raise InvalidTransition(
            "the change order changed since you opened it; reload it and review it again",
            field="content_sha256",
        )
    return ApprovalPlan(
        Evidence(
            signer_name=name,
            ip=check_ip(ip),
            user_agent=clean_user_agent(user_agent),
            auth_method=clean_user_agent(auth_method, AUTH_METHOD_MAX),
            consented_at=consent_time(consented_at, viewed_at=viewed_at, now=now),
        )
    )


def consent_time(given: datetime | None, *, viewed_at: datetime | None, now: datetime) -> datetime:
    """When the consent was given, as the gateway reports it, kept between the
    first view and the signature (a clock that disagrees cannot put it outside)."""
    if given is None or given > now:
        return now
    if viewed_at is not None and given < viewed_at:
        return viewed_at
    return given


# -- push back -------------------------------------------------------------------------


@dataclass(frozen=True)
class PushBack:
    comment: str  # on the whole order; may be empty when lines carry comments
    line_comments: tuple[tuple[str, str], ...]  # (line key, comment)


def check_push_back(
    *,
    status: int,
    number: str,
    revision: int,
    current_revision: int,
    deadline: datetime | None,
    now: datetime,
    comment: str,
    line_comments: Sequence[tuple[str, str]],
    line_keys: Collection[str],
) -> PushBack:
    """A comment on the whole order, on lines the client was shown, or both."""
    check_decision(
        action="push back",
        status=status,
        number=number,
        revision=revision,
        current_revision=current_revision,
        deadline=deadline,
        now=now,
    )
    whole = multiline_text(comment, field="comment", max_len=COMMENT_MAX)
    if len(line_comments) > MAX_LINE_COMMENTS:
        raise InvalidArgument(f"at most {MAX_LINE_COMMENTS} line comments", field="line_comments")
    lines: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, (key, text) in enumerate(line_comments):
        field = f"line_comments[{i}]"
        if key not in line_keys:
            raise InvalidArgument(
                f"{number} revision {revision} has no line {key!r}", field=f"{field}.line_key"
            )
        if key in seen:
            raise InvalidArgument(
                "one comment per line; put both thoughts in one", field=f"{field}.line_key"
            )
        seen.add(key)
        body = multiline_text(text, field=f"{field}.comment", max_len=COMMENT_MAX, required=True)
        lines.append((key, body))
    if not whole and not lines:
        raise InvalidArgument(
            "say what you would like changed: a comment on the order or on a line",
            field="comment",
        )
    return PushBack(whole, tuple(lines))

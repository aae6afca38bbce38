"""The client's approval of a change order: may they sign this revision now,
the evidence cleaned for keeping, and what signing writes (the signature, the
contract after the order, the audit entry's facts). Pure: no I/O, the clock
passed in. The push-back is `domain_push_back.py`.

One time: the request that approved an order, sent again, is answered with
the approved order; any other approval of it is refused, as is a request id
already spent on another order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.changeorders.domain_changes import LineChange
from services.changeorders.domain_contract import Contract
from services.changeorders.domain_diff import Diff, build_diff
from services.changeorders.domain_orders import Status, check_decision
from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.esign import check_ip, check_signer_name, clean_user_agent
from services.chassis.idempotency import IdempotencyKeyReused

AUTH_METHOD_MAX = 40
# The signer's email and the client's name, as the gateway read them from the
# signer's session, are kept as evidence, trimmed to the columns.
SIGNER_EMAIL_MAX = 320
CLIENT_NAME_MAX = 200


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


# -- what signing writes -----------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """The revision the client decides on, as it is stored."""

    number: str
    revision: int
    current_revision: int
    status: int
    deadline: datetime | None
    content_sha256: str
    consent_text: str
    viewed_at: datetime | None
    baseline: Mapping[str, Any]  # the contract it was priced on (Contract.as_dict)
    baseline_version: int
    changes: Sequence[Mapping[str, Any]]  # LineChange.as_dict each


@dataclass(frozen=True)
class Signing:
    """What the approver's request says, and who sent it."""

    request_id: str
    consent: bool
    signer_name: str
    content_sha256: str
    ip: str
    user_agent: str
    auth_method: str = ""
    consented_at: datetime | None = None
    signer_email: str = ""
    client_name: str = ""
    contact_id: str = ""
    session_id: str = ""


@dataclass(frozen=True)
class Signature:
    """The e-signature as it is kept (the approval row)."""

    signer_name: str
    signer_contact_id: str
    signer_email: str
    client_name: str
    session_id: str
    auth_method: str
    consent_text: str
    viewed_at: datetime | None
    consented_at: datetime
    signed_at: datetime
    ip: str
    user_agent: str
    content_sha256: str


@dataclass(frozen=True)
class Approve:
    """What an approval writes: the signature, the contract with the order's
    lines (one version on), the diff the event tells, the audit entry's facts."""

    signature: Signature
    contract: Contract
    contract_version: int
    diff: Diff
    facts: Mapping[str, Any]


def plan_approve(
    shown: Shown,
    signing: Signing,
    *,
    earlier: Earlier,
    contract_version: int,
    signed_total_minor: int,
    now: datetime,
) -> Approve | None:
    """None: the request that approved the order, again (answer it as it is).
    Otherwise the order's lines are applied to the contract they were priced
    on, which plan_approval has checked is the contract as it stands."""
    plan = plan_approval(
        request_id=signing.request_id,
        earlier=earlier,
        status=shown.status,
        number=shown.number,
        revision=shown.revision,
        current_revision=shown.current_revision,
        deadline=shown.deadline,
        now=now,
        baseline_current=shown.baseline_version == contract_version,
        stored_sha256=shown.content_sha256,
        given_sha256=signing.content_sha256,
        consent=signing.consent,
        signer_name=signing.signer_name,
        ip=signing.ip,
        user_agent=signing.user_agent,
        auth_method=signing.auth_method,
        viewed_at=shown.viewed_at,
        consented_at=signing.consented_at,
    )
    if plan.evidence is None:
        return None
    after, diff = build_diff(
        Contract.from_dict(shown.baseline),
        [LineChange.from_dict(c) for c in shown.changes],
        key_prefix=shown.number,
        signed_total_minor=signed_total_minor,
    )
    signature = _signature(shown, signing, plan.evidence, now)
    version = contract_version + 1
    return Approve(signature, after, version, diff, approval_facts(signature, diff, version))


def _signature(shown: Shown, signing: Signing, evidence: Evidence, now: datetime) -> Signature:
    return Signature(
        signer_name=evidence.signer_name,
        signer_contact_id=signing.contact_id,
        signer_email=signing.signer_email.strip()[:SIGNER_EMAIL_MAX],
        client_name=signing.client_name.strip()[:CLIENT_NAME_MAX],
        session_id=signing.session_id,
        auth_method=evidence.auth_method,
        consent_text=shown.consent_text,
        viewed_at=shown.viewed_at,
        consented_at=evidence.consented_at,
        signed_at=now,
        ip=evidence.ip,
        user_agent=evidence.user_agent,
        content_sha256=shown.content_sha256,
    )


def approval_facts(signature: Signature, diff: Diff, contract_version: int) -> dict[str, Any]:
    """The `approved` audit entry: the whole signature, so the evidence pack
    holds it even without the approval row, and what it did to the contract."""
    return {
        "signer_name": signature.signer_name,
        "signer_contact_id": signature.signer_contact_id,
        "signer_email": signature.signer_email,
        "auth_method": signature.auth_method,
        "session_id": signature.session_id,
        "consent_text": signature.consent_text,
        "viewed_at": _iso(signature.viewed_at),
        "consented_at": _iso(signature.consented_at),
        "signed_at": _iso(signature.signed_at),
        "ip": signature.ip,
        "user_agent": signature.user_agent,
        "content_sha256": signature.content_sha256,
        "price_impact_minor": diff.impact_minor,
        "contract_version": contract_version,
    }


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""

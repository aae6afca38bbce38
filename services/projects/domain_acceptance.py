"""Accepting a proposal: may the client sign this version, as they saw it,
and the evidence cleaned for keeping. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.esign import check_ip, check_signer_name, clean_user_agent
from services.chassis.idempotency import IdempotencyKeyReused
from services.projects.domain_proposals import ProposalStatus


@dataclass(frozen=True)
class Acceptance:
    signer_name: str
    ip: str
    user_agent: str


def check_acceptance(
    *,
    status: int,
    version: int,
    stored_sha256: str,
    given_sha256: str,
    consent: bool,
    signer_name: str,
    ip: str,
    user_agent: str,
) -> Acceptance:
    """May the client accept this version, as they saw it? Returns the cleaned evidence."""
    if status == ProposalStatus.SUPERSEDED:
        raise InvalidTransition(
            f"proposal v{version} has been replaced: a newer version was sent; review it",
            field="proposal_id",
        )
    if status == ProposalStatus.ACCEPTED:
        raise InvalidTransition(
            f"proposal v{version} has already been accepted", field="proposal_id"
        )
    if status != ProposalStatus.SENT:
        raise InvalidTransition(f"proposal v{version} has not been sent", field="proposal_id")
    if not consent:
        raise InvalidArgument(
            "tick the box to agree to the proposal before signing", field="consent"
        )
    name = check_signer_name(signer_name)
    if given_sha256.strip().lower() != stored_sha256:
        raise InvalidTransition(
            "the proposal changed since you opened it; reload it and review it again",
            field="content_sha256",
        )
    return Acceptance(name, check_ip(ip), clean_user_agent(user_agent))


# The signature's columns: the signer's email and the client's name, as the
# gateway read them from the signer's session, are kept as evidence, trimmed.
SIGNER_EMAIL_MAX = 320
CLIENT_NAME_MAX = 200


def kept_identity(signer_email: str, client_name: str) -> tuple[str, str]:
    """The signer's email and the client's name as the signature keeps them."""
    return signer_email.strip()[:SIGNER_EMAIL_MAX], client_name.strip()[:CLIENT_NAME_MAX]


@dataclass(frozen=True)
class EarlierUse:
    """What earlier requests left: the request id that accepted this proposal
    (if it is accepted), and whether this request id signed another proposal."""

    accepted_by_request: str | None = None
    request_id_taken: bool = False


@dataclass(frozen=True)
class AcceptancePlan:
    """What an AcceptProposal request does: sign with the cleaned `evidence`,
    or (no evidence) answer a retry with the proposal as it is."""

    evidence: Acceptance | None

    @property
    def retry(self) -> bool:
        return self.evidence is None


def plan_acceptance(
    *,
    request_id: str,
    earlier: EarlierUse,
    status: int,
    version: int,
    stored_sha256: str,
    given_sha256: str,
    consent: bool,
    signer_name: str,
    ip: str,
    user_agent: str,
) -> AcceptancePlan:
    """One time: the request that accepted the proposal, again, is a retry; a
    request id already spent on another proposal is refused; anything else must
    pass check_acceptance."""
    if status == ProposalStatus.ACCEPTED and earlier.accepted_by_request == request_id:
        return AcceptancePlan(evidence=None)
    if status != ProposalStatus.ACCEPTED and earlier.request_id_taken:
        raise IdempotencyKeyReused(
            "this request id (Idempotency-Key) was already used to accept another proposal; "
            "send a new key with each new request",
            field="request_id",
        )
    return AcceptancePlan(
        evidence=check_acceptance(
            status=status,
            version=version,
            stored_sha256=stored_sha256,
            given_sha256=given_sha256,
            consent=consent,
            signer_name=signer_name,
            ip=ip,
            user_agent=user_agent,
        ),
    )

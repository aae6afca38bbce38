"""Who may sign, and how fresh their proof must be: a client's own browser
session (CSRF checked), never an API token, whose person proved who they are
(sign-in or step-up) within the tenant's limit. Older than that, the
signature waits for a step-up: the password again, or a code emailed to them.
The signature records how they proved it (`auth_method`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends
from portal.identity.v1.identity_pb2 import Session, Tenant

from gateway.auth import require_session
from gateway.problems import Problem, ProblemError, problem_type
from gateway.sessions import SignedIn
from gateway.tenancy import current_tenant
from services.chassis.auth import Principal

DEFAULT_LIMIT_MINUTES = 30  # an identity that does not say yet
STEP_UP_REQUIRED = (
    "For your security, confirm it's you before you sign: enter your password again, "
    "or ask for a code by email."
)


def proof_is_fresh(session: Session, tenant: Tenant, now: datetime) -> bool:
    """The person proved who they are within the tenant's limit."""
    if not session.HasField("authenticated_at"):
        return False
    limit = timedelta(minutes=tenant.signing_reauth_minutes or DEFAULT_LIMIT_MINUTES)
    return now - session.authenticated_at.ToDatetime(tzinfo=UTC) <= limit


def step_up_required() -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("step-up-required"),
            title="Confirm it's you",
            status=403,
            detail=STEP_UP_REQUIRED,
            code="step_up_required",
        )
    )


@dataclass(frozen=True)
class Signer:
    session: Session
    principal: Principal
    fresh: bool

    @property
    def auth_method(self) -> str:
        return self.session.auth_method or "session"

    def require_fresh(self) -> None:
        """Checked in the route, after the body: a malformed request is a 422 first."""
        if not self.fresh:
            raise step_up_required()


async def require_signer(
    signed_in: Annotated[SignedIn, Depends(require_session)],
    tenant: Annotated[Tenant, Depends(current_tenant)],
) -> Signer:
    """Changeorders decides who may sign (the customer's approver contact, on a
    writable session) and refuses everyone else with the sentence."""
    return Signer(
        session=signed_in.session,
        principal=signed_in.person,
        fresh=proof_is_fresh(signed_in.session, tenant, datetime.now(UTC)),
    )

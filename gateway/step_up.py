"""Who may sign: a client's own browser session (CSRF checked), never an API
token. The signature records how the signer proved who they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from portal.identity.v1.identity_pb2 import Session

from gateway.auth import require_session
from gateway.sessions import SignedIn
from services.chassis.auth import Principal


@dataclass(frozen=True)
class Signer:
    session: Session
    principal: Principal
    auth_method: str


async def require_signer(signed_in: Annotated[SignedIn, Depends(require_session)]) -> Signer:
    """Changeorders decides who may sign (the customer's approver contact, on a
    writable session) and refuses everyone else with the sentence."""
    return Signer(session=signed_in.session, principal=signed_in.person, auth_method="session")

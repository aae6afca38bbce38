"""The step-up RPCs: a code emailed to the session's person, and the proof
(password or code) that refreshes the session's `authenticated_at`."""

from __future__ import annotations

from portal.identity.v1 import identity_pb2 as pb

from services.chassis.auth import current_principal
from services.identity import service
from services.identity.grpc_api.convert import session_pb, ts
from services.identity.passwords import Passwords
from services.identity.service.common import Sessions


class StepUpRpcs:
    _sessions: Sessions
    _passwords: Passwords

    async def RequestStepUpCode(self, request, context):
        expires = await service.request_step_up_code(
            sessions=self._sessions, principal=current_principal(), token=request.token
        )
        return pb.RequestStepUpCodeResponse(expires_at=ts(expires))

    async def StepUp(self, request, context):
        view = await service.step_up(
            sessions=self._sessions,
            passwords=self._passwords,
            principal=current_principal(),
            token=request.token,
            password=request.password,
            code=request.code,
        )
        return pb.StepUpResponse(session=session_pb(view))

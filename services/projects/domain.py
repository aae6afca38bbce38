"""Project rules: pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from services.chassis.errors import InvalidArgument, InvalidTransition


class Stage(IntEnum):
    """In order: a project moves forward through these; values match the proto enum."""

    DESIGN = 1
    PROCUREMENT = 2
    INSTALL = 3
    COMMISSIONING = 4
    HANDOVER = 5

    @property
    def label(self) -> str:
        return self.name.capitalize()


@dataclass(frozen=True)
class StageMove:
    from_stage: Stage
    to_stage: Stage
    reason: str
    client_note: str

    @property
    def backwards(self) -> bool:
        return self.to_stage < self.from_stage


def plan_stage_move(current: Stage, target: Stage, *, reason: str, client_note: str) -> StageMove:
    """Forward moves may skip stages (not every job needs procurement); moving
    back is allowed, because real projects slip, but needs a reason."""
    if target == current:
        raise InvalidTransition(f"the project is already in {current.label}", field="stage")
    reason = reason.strip()
    if target < current and not reason:
        raise InvalidArgument(
            f"moving back from {current.label} to {target.label} needs a reason", field="reason"
        )
    if len(reason) > 2000 or len(client_note) > 2000:
        raise InvalidArgument("reason and note are limited to 2000 characters")
    return StageMove(current, target, reason, client_note.strip())


def project_reference(number: int) -> str:
    return f"PRJ-{number:04d}"


# identity.v1.AccessState values.
ACCESS_ACTIVE, ACCESS_ARCHIVED, ACCESS_DELETED, ACCESS_PURGED = 1, 2, 3, 4


def portal_open(access_state: int | None) -> bool:
    """A client may look at projects unless their customer's portal is closed.

    No record means identity never changed the customer's access: active.
    """
    return access_state not in (ACCESS_DELETED, ACCESS_PURGED)


def newer(incoming: datetime, stored: datetime | None) -> bool:
    """Apply an access change only if it happened after the one we hold."""
    return stored is None or incoming > stored

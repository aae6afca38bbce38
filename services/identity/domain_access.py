"""A customer's access to the portal: a state machine, pure (the clock is passed in).

active <-> archived          (archived: the portal is read-only)
active | archived -> deleted (the portal is closed; restorable for 30 days)
deleted -> active            (restore, only while now < purge_after)
deleted -> purged            (the scheduled job, once purge_after has passed)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from services.chassis.errors import InvalidArgument, InvalidTransition

AccessState = Literal["active", "archived", "deleted", "purged"]
ACCESS_STATES: tuple[AccessState, ...] = ("active", "archived", "deleted", "purged")
PURGE_GRACE = timedelta(days=30)
# What a person may ask for; "purged" only ever happens through the job.
REQUESTABLE: tuple[AccessState, ...] = ("active", "archived", "deleted")


@dataclass(frozen=True)
class AccessChange:
    from_state: AccessState
    to_state: AccessState
    purge_after: datetime | None
    changed: bool

    @property
    def action(self) -> str:
        """The audit verb: customer.archived / .restored / .deleted / .purged."""
        if self.to_state == "active":
            return "customer.restored"
        return f"customer.{self.to_state}"

    @property
    def ends_sessions(self) -> bool:
        return self.changed and self.to_state in ("deleted", "purged")


def plan_access_change(
    current: AccessState,
    target: str,
    *,
    purge_after: datetime | None,
    now: datetime,
) -> AccessChange:
    """What changing `current` to `target` does at `now`, or why it cannot.

    Asking for the state the customer is already in changes nothing (a retried
    request answers with the current state) and keeps purge_after as it is.
    """
    if target not in REQUESTABLE:
        raise InvalidArgument(
            "access can be changed to active (restore), archived or deleted", field="to"
        )
    to = cast(AccessState, target)  # one of REQUESTABLE, checked above
    if current == "purged":
        raise InvalidTransition(
            "this customer was purged: their portal and contacts are gone for good"
        )
    if to == current:
        return AccessChange(current, to, purge_after, changed=False)
    if to == "deleted":
        return AccessChange(current, "deleted", now + PURGE_GRACE, changed=True)
    if current == "deleted":
        if to == "archived":
            raise InvalidTransition(
                "a deleted customer can only be restored to active (then archived if needed)"
            )
        if purge_after is None or now >= purge_after:
            raise InvalidTransition(
                "this customer can no longer be restored: the 30 days to restore a deleted "
                "customer have passed and their data is being purged"
            )
        return AccessChange(current, "active", None, changed=True)
    # active <-> archived
    return AccessChange(current, to, None, changed=True)


def plan_purge(
    current: AccessState, *, purge_after: datetime | None, now: datetime
) -> AccessChange:
    """The job's transition: deleted -> purged once purge_after has passed."""
    if current != "deleted" or purge_after is None:
        raise InvalidTransition("only a deleted customer can be purged")
    if now < purge_after:
        raise InvalidTransition(
            f"this customer can still be restored until {purge_after.isoformat()}; "
            "it is purged after that"
        )
    return AccessChange(current, "purged", None, changed=True)


def is_purge_due(state: str, purge_after: datetime | None, now: datetime) -> bool:
    return state == "deleted" and purge_after is not None and purge_after <= now


def portal_open(state: str) -> bool:
    """Contacts may sign in (archived: read-only)."""
    return state in ("active", "archived")


def portal_read_only(state: str) -> bool:
    return state == "archived"


def require_accepts_changes(state: str, *, what: str, allow_archived: bool = False) -> None:
    """Refuse new things (invites, contacts, renames) for a customer whose portal is closed,
    and, unless allowed, for an archived one."""
    if state == "archived" and not allow_archived:
        raise InvalidTransition(
            f"this customer is archived, so {what} is not possible; restore them to active first"
        )
    if state == "deleted":
        raise InvalidTransition(
            f"this customer is deleted, so {what} is not possible; restore them first "
            "(possible for 30 days after deletion)"
        )
    if state == "purged":
        raise InvalidTransition(f"this customer was purged, so {what} is not possible")

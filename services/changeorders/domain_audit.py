"""The evidence pack's log: an append-only, hash-chained list of what happened
to one change order. Pure: no I/O.

Each entry's SHA-256 covers its own fields and the previous entry's hash, so
changing, removing or reordering any entry breaks every link after it; the
database refuses UPDATE and DELETE on the table, and `verify` finds what a
person with the rights to get past that (an owner disabling the trigger, a
superuser) changed: the first entry whose link does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from services.chassis.esign import canonical_json, sha256_hex

# The hash before the first entry.
GENESIS = "0" * 64
# Names the fields and layout an entry's hash covers; a new layout gets a new
# name, so entries hashed under the old one stay checkable.
ENTRY_FORMAT = "portal.changeorders.audit/1"


@dataclass(frozen=True)
class Entry:
    change_order_id: str
    seq: int
    action: str
    actor: str
    revision: int
    occurred_at: datetime
    facts: Mapping[str, Any] = field(default_factory=dict)
    prev_sha256: str = GENESIS
    sha256: str = ""


class Link(Protocol):
    """What the next entry needs of the one before it (an Entry, or just
    these two columns read back)."""

    @property
    def seq(self) -> int: ...

    @property
    def sha256(self) -> str: ...


def _instant(value: datetime) -> str:
    """UTC to the microsecond (what timestamptz keeps), one spelling."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: Entry) -> str:
    return sha256_hex(
        canonical_json(
            {
                "format": ENTRY_FORMAT,
                "change_order_id": entry.change_order_id,
                "seq": entry.seq,
                "action": entry.action,
                "actor": entry.actor,
                "revision": entry.revision,
                "occurred_at": _instant(entry.occurred_at),
                "facts": dict(entry.facts),
                "prev": entry.prev_sha256,
            }
        )
    )


def next_entry(
    previous: Link | None,
    *,
    change_order_id: str,
    action: str,
    actor: str,
    revision: int,
    occurred_at: datetime,
    facts: Mapping[str, Any],
) -> Entry:
    """The entry after `previous` (None: the first), hashed."""
    draft = Entry(
        change_order_id=change_order_id,
        seq=previous.seq + 1 if previous else 1,
        action=action,
        actor=actor,
        revision=revision,
        occurred_at=occurred_at,
        facts=facts,
        prev_sha256=previous.sha256 if previous else GENESIS,
    )
    return replace(draft, sha256=entry_hash(draft))


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken_at: int | None = None  # the seq of the first entry whose link fails
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(change_order_id: str, entries: Sequence[Entry]) -> Verdict:
    """Walks the chain in seq order; the first entry that is out of place, was
    changed, or does not follow the one before it is the broken link."""
    expected_prev = GENESIS
    for n, entry in enumerate(entries, start=1):
        if entry.seq != n:
            return Verdict(len(entries), n, f"entry {n} is missing (found entry {entry.seq})")
        if entry.change_order_id != change_order_id:
            return Verdict(len(entries), n, f"entry {n} belongs to another change order")
        if entry.prev_sha256 != expected_prev:
            return Verdict(
                len(entries), n, f"entry {n} does not follow entry {n - 1}: its link was changed"
            )
        if entry_hash(entry) != entry.sha256:
            return Verdict(
                len(entries), n, f"entry {n} ({entry.action}) was changed after it was written"
            )
        expected_prev = entry.sha256
    if not entries:
        return Verdict(0, 1, "the change order has no audit entries")
    return Verdict(len(entries))

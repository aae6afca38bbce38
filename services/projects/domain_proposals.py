"""Proposals: versions, what the client is shown and signs, its hash, and the
rules of sending and accepting. Pure: no I/O, the clock passed in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from enum import IntEnum
from typing import Any

from services.chassis.errors import InvalidTransition
from services.chassis.esign import canonical_json, sha256_hex
from services.chassis.validation import multiline_text, require_text
from services.projects import domain_money
from services.projects.domain_money import Totals

# What the client agrees to by typing their name; shown next to the box they
# tick, stored with the proposal when sent and with the signature, and part of
# the signed content. A new wording is a new version: never edit one in place.
CONSENT_TEXT_V1 = (
    "I agree to the scope and price in this proposal and that typing my name is my "
    "electronic signature."
)
CONSENT_TEXT = CONSENT_TEXT_V1
# Names the layout of the signed content; changes with it, so old hashes stay checkable.
CONTENT_FORMAT = "portal.projects.proposal/1"
# The client sees hidden rooms' amounts together under this name.
OTHER_ROOMS_NAME = "Other items"

TITLE_MAX = 200
INTRODUCTION_MAX = 10_000


class ProposalStatus(IntEnum):
    """Values match the proto enum."""

    DRAFT = 1
    SENT = 2
    ACCEPTED = 3
    SUPERSEDED = 4

    @property
    def label(self) -> str:
        return self.name.lower()


CLIENT_STATUSES = frozenset(
    {ProposalStatus.SENT, ProposalStatus.ACCEPTED, ProposalStatus.SUPERSEDED}
)


def client_may_see(status: int) -> bool:
    """Clients never see drafts: a draft is the integrator's working copy."""
    return status in CLIENT_STATUSES


# -- the snapshot: rooms and lines as they were when the version was drafted ---------


@dataclass(frozen=True)
class SnapshotLine:
    manufacturer: str
    model: str
    description: str
    quantity: int
    unit_price_minor: int
    client_visible: bool

    @property
    def line_total_minor(self) -> int:
        return domain_money.line_total(self.quantity, self.unit_price_minor)

    @property
    def label(self) -> str:
        """What the client reads: "Sonos Arc - Soundbar above the TV"."""
        name = f"{self.manufacturer.strip()} {self.model.strip()}".strip()
        return " - ".join(part for part in (name, self.description.strip()) if part)


@dataclass(frozen=True)
class SnapshotRoom:
    name: str
    client_visible: bool
    lines: tuple[SnapshotLine, ...]

    @property
    def total_minor(self) -> int:
        return sum(line.line_total_minor for line in self.lines)


@dataclass(frozen=True)
class Terms:
    title: str
    introduction: str
    labour_minor: int
    discount_minor: int
    tax_rate_bps: int


def check_terms(
    *, title: str, introduction: str, labour_minor: int, discount_minor: int, tax_rate_bps: int
) -> Terms:
    return Terms(
        title=require_text(title, field="title", max_len=TITLE_MAX),
        introduction=multiline_text(introduction, field="introduction", max_len=INTRODUCTION_MAX),
        labour_minor=domain_money.check_amount(labour_minor, field="labour_minor"),
        discount_minor=domain_money.check_amount(discount_minor, field="discount_minor"),
        tax_rate_bps=domain_money.check_tax_rate(tax_rate_bps),
    )


# What UpdateProposal's mask may name (refresh_lines is an action, not a term).
TERMS_FIELDS = tuple(f.name for f in fields(Terms))


def change_terms(current: Terms, changes: Mapping[str, Any]) -> Terms:
    """The terms with `changes` applied, checked whole as new terms would be."""
    return check_terms(**(asdict(current) | dict(changes)))


def proposal_totals(rooms: Iterable[SnapshotRoom], terms: Terms) -> Totals:
    """Every room counts, hidden or not: the client pays for what is not itemised too."""
    return domain_money.totals(
        item_totals=(room.total_minor for room in rooms),
        labour_minor=terms.labour_minor,
        discount_minor=terms.discount_minor,
        tax_rate_bps=terms.tax_rate_bps,
    )


def line_count(rooms: Iterable[SnapshotRoom]) -> int:
    return sum(len(room.lines) for room in rooms)


# -- what the client sees ------------------------------------------------------------


@dataclass(frozen=True)
class ClientLine:
    description: str
    quantity: int
    unit_price_minor: int
    line_total_minor: int
    # Staff's view itemises hidden lines too and says so; never part of the
    # signed content (a client's view holds only visible lines).
    client_visible: bool = True


@dataclass(frozen=True)
class ClientRoom:
    name: str
    lines: tuple[ClientLine, ...]
    other_items_minor: int  # the room's lines the integrator keeps internal, summed
    total_minor: int
    client_visible: bool = True  # as ClientLine's


def client_rooms(rooms: Sequence[SnapshotRoom]) -> tuple[ClientRoom, ...]:
    """The rooms as the client sees them. Hidden lines are not itemised but are
    summed into their room's other_items; hidden rooms are not named, their
    amounts are summed into one "Other items" room at the end. So the rooms the
    client sees add up to the subtotal they sign."""
    shown: list[ClientRoom] = []
    hidden_rooms_total = 0
    for room in rooms:
        if not room.client_visible:
            hidden_rooms_total += room.total_minor
            continue
        lines = tuple(
            ClientLine(
                description=line.label,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                line_total_minor=line.line_total_minor,
            )
            for line in room.lines
            if line.client_visible
        )
        other = sum(line.line_total_minor for line in room.lines if not line.client_visible)
        shown.append(ClientRoom(room.name, lines, other, room.total_minor))
    if hidden_rooms_total:
        shown.append(ClientRoom(OTHER_ROOMS_NAME, (), hidden_rooms_total, hidden_rooms_total))
    return tuple(shown)


@dataclass(frozen=True)
class SignedContent:
    """Exactly what the client is shown and signs. Its canonical JSON is what
    is hashed, stored when the proposal is sent, and rendered into the PDF."""

    project_reference: str
    project_name: str
    version: int
    title: str
    introduction: str
    currency: str
    rooms: tuple[ClientRoom, ...]
    labour_minor: int
    discount_minor: int
    tax_rate_bps: int
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    consent_text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": CONTENT_FORMAT,
            "project": {"reference": self.project_reference, "name": self.project_name},
            "version": self.version,
            "title": self.title,
            "introduction": self.introduction,
            "currency": self.currency,
            "rooms": [
                {
                    "name": room.name,
                    "lines": [
                        {
                            "description": line.description,
                            "quantity": line.quantity,
                            "unit_price_minor": line.unit_price_minor,
                            "line_total_minor": line.line_total_minor,
                        }
                        for line in room.lines
                    ],
                    "other_items_minor": room.other_items_minor,
                    "total_minor": room.total_minor,
                }
                for room in self.rooms
            ],
            "labour_minor": self.labour_minor,
            "discount_minor": self.discount_minor,
            "tax_rate_bps": self.tax_rate_bps,
            "subtotal_minor": self.subtotal_minor,
            "tax_minor": self.tax_minor,
            "total_minor": self.total_minor,
            "consent_text": self.consent_text,
        }

    def canonical_json(self) -> str:
        return canonical_json(self.as_dict())

    def sha256(self) -> str:
        return sha256_hex(self.canonical_json())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignedContent:
        if data.get("format") != CONTENT_FORMAT:
            raise ValueError(f"unknown proposal content format: {data.get('format')!r}")
        return cls(
            project_reference=data["project"]["reference"],
            project_name=data["project"]["name"],
            version=data["version"],
            title=data["title"],
            introduction=data["introduction"],
            currency=data["currency"],
            rooms=tuple(
                ClientRoom(
                    name=room["name"],
                    lines=tuple(
                        ClientLine(
                            description=line["description"],
                            quantity=line["quantity"],
                            unit_price_minor=line["unit_price_minor"],
                            line_total_minor=line["line_total_minor"],
                        )
                        for line in room["lines"]
                    ),
                    other_items_minor=room["other_items_minor"],
                    total_minor=room["total_minor"],
                )
                for room in data["rooms"]
            ),
            labour_minor=data["labour_minor"],
            discount_minor=data["discount_minor"],
            tax_rate_bps=data["tax_rate_bps"],
            subtotal_minor=data["subtotal_minor"],
            tax_minor=data["tax_minor"],
            total_minor=data["total_minor"],
            consent_text=data["consent_text"],
        )

    @classmethod
    def from_json(cls, text: str) -> SignedContent:
        return cls.from_dict(json.loads(text))


def signed_content(
    *,
    project_reference: str,
    project_name: str,
    version: int,
    currency: str,
    rooms: Sequence[SnapshotRoom],
    terms: Terms,
    consent_text: str = CONSENT_TEXT,
) -> SignedContent:
    totals = proposal_totals(rooms, terms)
    return SignedContent(
        project_reference=project_reference,
        project_name=project_name,
        version=version,
        title=terms.title,
        introduction=terms.introduction,
        currency=currency,
        rooms=client_rooms(rooms),
        labour_minor=totals.labour_minor,
        discount_minor=totals.discount_minor,
        tax_rate_bps=totals.tax_rate_bps,
        subtotal_minor=totals.subtotal_minor,
        tax_minor=totals.tax_minor,
        total_minor=totals.total_minor,
        consent_text=consent_text,
    )


# -- transitions ---------------------------------------------------------------------


def check_new_version(accepted_version: int | None) -> None:
    if accepted_version is not None:
        raise InvalidTransition(
            f"proposal v{accepted_version} has been accepted and is the contract baseline; "
            "changes from here on are change orders",
            field="project_id",
        )


def require_draft(status: int, version: int) -> None:
    """Only a draft can be edited: once sent, the content is frozen."""
    if status == ProposalStatus.DRAFT:
        return
    if status == ProposalStatus.ACCEPTED:
        raise InvalidTransition(
            f"proposal v{version} has been accepted and is the contract baseline: "
            "it cannot be changed",
            field="proposal_id",
        )
    raise InvalidTransition(
        f"proposal v{version} has been sent and can no longer be changed; "
        "create a new version instead",
        field="proposal_id",
    )


def check_send(
    *,
    status: int,
    version: int,
    lines: int,
    accepted_version: int | None,
    latest_sent_version: int | None,
) -> None:
    """May this draft go to the client? (A retry of a send that happened is the
    caller's business: it answers with the sent proposal.)"""
    if status != ProposalStatus.DRAFT:
        raise InvalidTransition(
            f"only a draft can be sent; proposal v{version} is {ProposalStatus(status).label}",
            field="proposal_id",
        )
    check_new_version(accepted_version)
    if latest_sent_version is not None and latest_sent_version > version:
        raise InvalidTransition(
            f"v{latest_sent_version} has already been sent; create a new version rather "
            f"than sending the older draft v{version}",
            field="proposal_id",
        )
    if lines == 0:
        raise InvalidTransition(
            "a proposal with no product lines cannot be sent", field="proposal_id"
        )


def waiting_title(version: int) -> str:
    return f"Review and accept proposal v{version}"


def proposal_link(project_id: str) -> str:
    return f"/projects/{project_id}/proposal"

"""Project rules: pure, no I/O."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from enum import IntEnum
from typing import Any

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.idempotency import fingerprint
from services.chassis.validation import multiline_text, parse_uuid, require_text, single_line
from services.projects.domain_money import project_currency


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


NOTE_MAX = 2000  # a stage move's reason and client note


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
    reason = multiline_text(reason, field="reason", max_len=NOTE_MAX)
    if target < current and not reason:
        raise InvalidArgument(
            f"moving back from {current.label} to {target.label} needs a reason", field="reason"
        )
    note = multiline_text(client_note, field="client_note", max_len=NOTE_MAX)
    return StageMove(current, target, reason, note)


@dataclass(frozen=True)
class CustomerRecord:
    """What identity says of a customer, as far as a project needs to know."""

    id: str
    access_state: str  # active | archived | deleted | purged
    contact_ids: frozenset[str]


def check_customer(found: CustomerRecord | None) -> CustomerRecord:
    """A project is for a customer of this integrator who is still there:
    the id of another integrator's customer, or of none, is refused here (its
    events would otherwise name a customer nobody can be told about)."""
    if found is None or found.access_state == "purged":
        raise InvalidArgument(
            "there is no customer with this id at this integrator", field="customer_id"
        )
    if found.access_state == "deleted":
        raise InvalidArgument(
            "the customer is deleted; restore them before starting a project for them",
            field="customer_id",
        )
    return found


def check_visible_contacts(contact_ids: Iterable[str], customer: CustomerRecord | None) -> None:
    """Only the project's customer's own contacts can be listed as seeing it
    (`customer` None: identity no longer has it, so no one is its contact)."""
    theirs = customer.contact_ids if customer is not None else frozenset()
    for contact in contact_ids:
        if contact not in theirs:
            raise InvalidArgument(
                f"{contact} is not a contact of the project's customer",
                field="visible_contact_ids",
            )


def project_reference(number: int) -> str:
    return f"PRJ-{number:04d}"


NAME_MAX = 200
SITE_ADDRESS_MAX = 500
PERSON_NAME_MAX = 200
EMAIL_MAX = 320
MAX_VISIBLE_CONTACTS = 100
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class ProjectDetails:
    """What staff edit on a project (UpdateProject changes the fields its mask names)."""

    name: str
    site_address: str
    project_manager_id: str
    project_manager_name: str
    project_manager_email: str
    visible_contact_ids: tuple[str, ...]
    service_contract: bool


def _uuid_text(value: str, *, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(f"{field.replace('_', ' ')} must be a UUID", field=field) from None


def check_project_details(
    *,
    name: str,
    site_address: str,
    project_manager_id: str,
    project_manager_name: str,
    project_manager_email: str,
    visible_contact_ids: Iterable[str],
    service_contract: bool,
) -> ProjectDetails:
    name = require_text(name, field="name", max_len=NAME_MAX)
    site_address = single_line(site_address, field="site_address", max_len=SITE_ADDRESS_MAX)
    pm_id = project_manager_id.strip()
    if pm_id:
        pm_id = _uuid_text(pm_id, field="project_manager_id")
    pm_name = single_line(
        project_manager_name, field="project_manager_name", max_len=PERSON_NAME_MAX
    )
    pm_email = single_line(project_manager_email, field="project_manager_email", max_len=EMAIL_MAX)
    if pm_email and not _EMAIL.fullmatch(pm_email):
        raise InvalidArgument(
            "project manager email is not an email address", field="project_manager_email"
        )
    contacts: list[str] = []
    for raw in visible_contact_ids:
        contact = _uuid_text(raw.strip(), field="visible_contact_ids")
        if contact not in contacts:
            contacts.append(contact)
    if len(contacts) > MAX_VISIBLE_CONTACTS:
        raise InvalidArgument(
            f"at most {MAX_VISIBLE_CONTACTS} contacts can be listed", field="visible_contact_ids"
        )
    return ProjectDetails(
        name=name,
        site_address=site_address,
        project_manager_id=pm_id,
        project_manager_name=pm_name,
        project_manager_email=pm_email,
        visible_contact_ids=tuple(contacts),
        service_contract=service_contract,
    )


# What UpdateProject's mask may name: the proto's field names.
PROJECT_FIELDS = tuple(f.name for f in fields(ProjectDetails))


def change_project_details(current: ProjectDetails, changes: Mapping[str, Any]) -> ProjectDetails:
    """The details with `changes` applied, checked whole as one would be new
    (the checks name the field at fault)."""
    return check_project_details(**(asdict(current) | dict(changes)))


@dataclass(frozen=True)
class NewProject:
    """A CreateProject request, cleaned; `digest` tells a retry from a reuse
    of its request id."""

    name: str
    customer_id: uuid.UUID
    site_address: str
    currency: str
    digest: str


def new_project(*, name: str, customer_id: str, site_address: str, currency: str) -> NewProject:
    """The fields a new project is made from, each checked; an empty currency
    is the suite's default."""
    clean_name = require_text(name, field="name", max_len=NAME_MAX)
    customer = parse_uuid(customer_id, field="customer_id")
    site = single_line(site_address, field="site_address", max_len=SITE_ADDRESS_MAX)
    money = project_currency(currency)
    digest = fingerprint(
        "CreateProject", name=clean_name, customer_id=customer, site_address=site, currency=money
    )
    return NewProject(clean_name, customer, site, money, digest)

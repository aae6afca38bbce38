"""Project rules: pure, no I/O."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from enum import IntEnum
from typing import Any

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
    name = name.strip()
    if not name:
        raise InvalidArgument("name is required", field="name")
    if len(name) > NAME_MAX:
        raise InvalidArgument(f"name is longer than {NAME_MAX} characters", field="name")
    site_address = site_address.strip()
    if len(site_address) > SITE_ADDRESS_MAX:
        raise InvalidArgument(
            f"site address is longer than {SITE_ADDRESS_MAX} characters", field="site_address"
        )
    pm_id = project_manager_id.strip()
    if pm_id:
        pm_id = _uuid_text(pm_id, field="project_manager_id")
    pm_name = project_manager_name.strip()
    if len(pm_name) > PERSON_NAME_MAX:
        raise InvalidArgument(
            f"project manager name is longer than {PERSON_NAME_MAX} characters",
            field="project_manager_name",
        )
    pm_email = project_manager_email.strip()
    if pm_email and (len(pm_email) > EMAIL_MAX or not _EMAIL.fullmatch(pm_email)):
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

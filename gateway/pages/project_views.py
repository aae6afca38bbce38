"""What the project pages show, computed from the API's models (the same ones
the JSON API answers with): the stage track, dates for people, the contact
link, which proposal to show and whether this person may sign it. Pure: no
I/O, so every case is a unit test."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal
from urllib.parse import quote

from portal.projects.v1 import projects_pb2

from gateway.api.projects import STAGE_NAMES, Project, StageInfo
from gateway.api.proposal_shapes import Proposal
from services.chassis import enums
from services.chassis.auth import Principal
from services.chassis.timefmt import format_date, parse_day

P = projects_pb2
# "install" -> "Install": the enum's own labels, in stage order.
STAGE_LABELS = {name: enums.label(P.Stage, enums.value(P.Stage, name)) for name in STAGE_NAMES}
StepState = Literal["done", "current", "next"]
DASH = " \u2013 "  # an en dash between spaces, for date ranges


def move_choices(current: str) -> tuple[list[tuple[str, str]], str | None]:
    """The staff's "Move to" choices (every stage but the current one) and the
    one to preselect: the next stage, the usual move; none at handover."""
    choices = [(name, STAGE_LABELS[name]) for name in STAGE_NAMES if name != current]
    following = STAGE_NAMES[STAGE_NAMES.index(current) + 1 :] if current in STAGE_NAMES else ()
    return choices, (following[0] if following else None)


def stage_label(value: str | projects_pb2.Stage.ValueType | None) -> str:
    """ "install" (the API's name) or the enum value -> "Install"; none or
    unknown -> an em dash, as the chassis labels an unknown enum value."""
    if value is None or isinstance(value, str):
        return STAGE_LABELS.get(value or "", enums.label(P.Stage, 0))
    return enums.label(P.Stage, value)


# -- dates ------------------------------------------------------------------------------


def human_date(value: str | date | None) -> str:
    """ "2026-03-12" -> "12 Mar 2026"; empty or unreadable -> "" (the chassis format)."""
    return format_date(value)


def date_span(start: str | date | None, finish: str | date | None) -> str:
    """ "3-20 Mar 2026", "28 Mar-4 Apr 2026", "20 Dec 2026-8 Jan 2027" (an
    en dash between spaces); one end alone is "from ..." / "until ..."."""
    a, b = _day(start), _day(finish)
    if a and b:
        if a == b:
            return human_date(a)
        if a.year != b.year:
            return f"{human_date(a)}{DASH}{human_date(b)}"
        if a.month != b.month:
            return f"{a.day} {a:%b}{DASH}{human_date(b)}"
        return f"{a.day}{DASH}{human_date(b)}"
    if a:
        return f"from {human_date(a)}"
    if b:
        return f"until {human_date(b)}"
    return ""


def _day(value: str | date | None) -> date | None:
    return parse_day(value) if isinstance(value, str) else value


# -- the stage track ----------------------------------------------------------------------


@dataclass(frozen=True)
class StageStep:
    key: str
    label: str
    state: StepState
    dates: list[str] = field(default_factory=list)  # one short line each
    note: str = ""

    @property
    def state_label(self) -> str:
        return {"done": "Done", "current": "Current stage", "next": "Coming up"}[self.state]


def _dates(info: StageInfo, state: StepState) -> list[str]:
    actual = date_span(info.actual_start, info.actual_finish)
    planned = date_span(info.planned_start, info.planned_finish)
    if state == "done":
        if info.actual_finish:
            return [f"Finished {human_date(info.actual_finish)}"]
        return [actual] if actual else []
    if state == "current":
        lines = []
        if info.actual_start:
            lines.append(f"Started {human_date(info.actual_start)}")
        elif info.planned_start:
            lines.append(f"Planned start {human_date(info.planned_start)}")
        if info.planned_finish:
            lines.append(f"Expected to finish {human_date(info.planned_finish)}")
        return lines
    return [f"Planned {planned}"] if planned else ["Not scheduled yet"]


def _unplanned(name: str) -> StageInfo:
    """A stage projects has no row for yet: no dates, no note."""
    return StageInfo.model_validate(
        {
            "stage": name,
            "planned_start": None,
            "planned_finish": None,
            "actual_start": None,
            "actual_finish": None,
            "client_note": "",
            "note_updated_at": None,
        }
    )


def stage_track(current: str | None, stages: Iterable[StageInfo]) -> list[StageStep]:
    """The five stages in order, each done, current or next, with its dates.

    The stage the project is in is current; once handover has an actual
    finish, the project is complete and every step is done."""
    by_name = {s.stage: s for s in stages}
    at = STAGE_NAMES.index(current) if current in STAGE_NAMES else -1
    steps = []
    for index, name in enumerate(STAGE_NAMES):
        info = by_name.get(name) or _unplanned(name)
        state: StepState = "done" if index < at else "current" if index == at else "next"
        if state == "current" and name == "handover" and info.actual_finish:
            state = "done"
        steps.append(
            StageStep(
                key=name,
                label=STAGE_LABELS[name],
                state=state,
                dates=_dates(info, state),
                note=info.client_note if state == "current" else "",
            )
        )
    return steps


def without_repeated_notes(steps: list[StageStep], notes: Iterable[str]) -> list[StageStep]:
    """The steps, minus a step's note that is also one of the team's latest notes
    (a stage move's note becomes the stage's note too)."""
    seen = {n.strip() for n in notes}
    return [replace(s, note="") if s.note.strip() in seen else s for s in steps]


# -- contacting the team ------------------------------------------------------------------


def mailto(to: str, *, subject: str, body: str) -> str:
    """An RFC 6068 mailto: URL. Everything but the address's plain characters
    is percent-encoded (spaces as %20, never +; line breaks as %0D%0A), so an
    & or ? in a name cannot start another header."""
    crlf = "\r\n".join(body.splitlines())
    return (
        f"mailto:{quote(to.strip(), safe='@')}"
        f"?subject={quote(subject, safe='')}&body={quote(crlf, safe='')}"
    )


@dataclass(frozen=True)
class ContactLink:
    href: str
    to: str
    who: str  # "Sam Lee, your project manager" or "the Acme team"


def project_contact(
    project: Project,
    *,
    team_name: str,
    support_email: str,
    client_name: str,
) -> ContactLink | None:
    """An email to the project manager, else to the integrator's support
    address, pre-filled with the project's name and reference and the
    client's name; None when there is nobody to write to."""
    to = project.project_manager_email.strip() or support_email.strip()
    if not to:
        return None
    who = (
        f"{project.project_manager_name or 'your project manager'}, your project manager"
        if project.project_manager_email.strip()
        else f"the {team_name} team"
    )
    greeting = (
        f"Hello {project.project_manager_name.split()[0]},"
        if project.project_manager_email.strip() and project.project_manager_name.strip()
        else "Hello,"
    )
    body = "\n".join(
        [
            greeting,
            "",
            "",
            "",
            f"Project: {project.name}",
            f"Reference: {project.reference}",
            f"From: {client_name}".rstrip(),
        ]
    )
    subject = f"{project.name} ({project.reference})"
    return ContactLink(href=mailto(to, subject=subject, body=body), to=to, who=who)


# -- waiting items --------------------------------------------------------------------------


def safe_portal_path(link: str) -> str | None:
    """A path on this portal, or None: the page links only to itself, never
    to another host (//evil.example) or a script URL."""
    link = link.strip()
    if not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    if any(ord(c) < 0x20 for c in link):
        return None
    return link


# -- proposals ----------------------------------------------------------------------------


def current_proposal(proposals: Sequence[projects_pb2.Proposal]) -> projects_pb2.Proposal | None:
    """The one a client should look at: a sent one awaiting them (newest),
    else the accepted one, else the newest they were given (projects never
    gives a client a draft)."""
    for wanted in (P.PROPOSAL_STATUS_SENT, P.PROPOSAL_STATUS_ACCEPTED):
        found = [p for p in proposals if p.status == wanted]
        if found:
            return max(found, key=lambda p: p.version)
    return max(proposals, key=lambda p: p.version) if proposals else None


SigningState = Literal["sign", "viewer", "read_only", "closed"]


def signing_state(proposal: Proposal, principal: Principal) -> SigningState:
    """What the proposal page offers: the signature form only for a sent
    proposal and an approver who may act. The service decides again on submit."""
    if proposal.status != "sent":
        return "closed"
    if principal.read_only:
        return "read_only"
    if "approver" not in principal.roles:
        return "viewer"
    return "sign"

"""The page templates' environment and the filters every page uses. Money,
rates, dates and enum names come from the chassis, so a page reads exactly as
the API's `formatted`, the emails and the PDFs do."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from gateway.api.proposals import status_name
from gateway.pages.project_views import stage_label
from services.chassis.money import format_amount, format_money, format_percent_bps, format_rate
from services.chassis.timefmt import format_date, format_datetime, format_days_change, zone_words

ROLE_LABELS = {
    "approver": "Approver: may approve changes, pay and book",
    "viewer": "Viewer: can look, not act",
    "project_manager": "Project manager",
}
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def build_templates(*, auto_reload: bool = False) -> Jinja2Templates:
    """`auto_reload` (development only): a template edited on disk is read
    again. Otherwise every render would stat each template it uses (the page,
    its layout, its includes) to find out whether it changed, which it cannot
    in a deployed gateway."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(),  # .html autoescaped, as Starlette's default
        auto_reload=auto_reload,
    )
    templates = Jinja2Templates(env=env)
    env.filters["when"] = format_datetime  # {{ ts|when(tz) }}: a moment on the tenant's clock
    env.filters["day"] = format_date  # {{ "2026-03-12"|day }}: a calendar date
    env.filters["money"] = format_money
    env.filters["amount"] = format_amount  # {{ minor|amount("USD") }}: a bare amount
    env.filters["percent"] = format_rate  # "8.25 %"
    env.filters["percent_number"] = format_percent_bps  # "8.25", for a form field
    env.filters["device"] = describe_device
    env.filters["zone_place"] = zone_place  # "America/New_York" -> "New York"
    env.filters["keep_references"] = keep_references  # "Deposit (PRJ-0001)", unbroken
    env.filters["days_change"] = format_days_change  # 2 -> "+2 days", 0 -> "No change"
    env.filters["zone_words"] = zone_words  # "America/New_York" -> "New York time"
    env.globals["role_labels"] = ROLE_LABELS
    env.globals["stage_label"] = stage_label
    env.globals["proposal_status"] = proposal_status
    return templates


# Our human numbers: PRJ-0001, INV-1247, CO-003 (chassis.db next_number's scopes).
_REFERENCE = re.compile(r"\b[A-Z]{2,4}-\d{2,}\b")
_NOWRAP = Markup('<span class="nowrap">{}</span>')


def keep_references(text: str) -> Markup:
    """Text (escaped) whose references never break at their hyphen: a line's
    description is data and wraps where a phone's width says, but "PRJ-" at
    the end of one line and "0001" on the next reads as two things."""
    parts: list[Markup] = []
    end = 0
    for found in _REFERENCE.finditer(text):
        parts += [escape(text[end : found.start()]), _NOWRAP.format(found.group(0))]
        end = found.end()
    parts.append(escape(text[end:]))
    return Markup("").join(parts)


def zone_place(zone: str) -> str:
    """The place a client knows an IANA zone by ("New York time"), not its key."""
    return zone.rsplit("/", 1)[-1].replace("_", " ") or "local"


def proposal_status(value: str | int) -> str:
    """The API's status name as it is; an enum value (the console's drafts) named."""
    return value if isinstance(value, str) else status_name(value)


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """'Chrome on macOS' from a user agent; the raw string says too much and too little."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60]

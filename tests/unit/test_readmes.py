"""Each service README's "Publishes" and "Consumes" tables say what the code
does: the subjects of its events.proto and of its subscriptions.

A README lists them under a bold heading, one subject a row, in backticks in
the first cell:

    **Publishes** (stream `PROJECTS`, via the outbox)

    | subject | payload | when |
    |---|---|---|
    | `projects.project.created` | `ProjectCreated` | CreateProject |

A section left out lists nothing (a service that publishes nothing may omit
"Publishes"); "Consumes none." is an empty section.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from unittest.mock import MagicMock

import pytest

from services.chassis.events import subject_for

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__main__.py").exists())
HEADING = re.compile(r"^\*\*(?P<name>[^*]+)\*\*")
SUBJECT_ROW = re.compile(r"^\|\s*`(?P<subject>[a-z_]+\.[a-z_]+\.[a-z_]+)`\s*\|")


def listed(readme: str, section: str) -> set[str]:
    """The subjects in the table under `**<section>**`, up to the next bold heading."""
    subjects: set[str] = set()
    inside = False
    for line in readme.splitlines():
        heading = HEADING.match(line)
        if heading:
            inside = heading["name"].strip() == section
            continue
        row = SUBJECT_ROW.match(line)
        if inside and row:
            subjects.add(row["subject"])
    return subjects


def published(service: str) -> set[str]:
    try:
        events = importlib.import_module(f"portal.{service}.v1.events_pb2")
    except ModuleNotFoundError:
        return set()
    return {subject_for(getattr(events, name)) for name in events.DESCRIPTOR.message_types_by_name}


def consumed(service: str) -> set[str]:
    spec = importlib.import_module(f"services.{service}.__main__").SPEC
    # Subscriptions are built, not run: their dependencies can be stand-ins.
    return {s.subject for s in spec.subscriptions(MagicMock())}


def readme(service: str) -> str:
    return (ROOT / "services" / service / "README.md").read_text()


def test_every_service_is_checked():
    assert {"identity", "projects", "documents", "notifications"} <= set(SERVICES)
    assert "chassis" not in SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_the_readme_lists_what_the_service_publishes(service: str):
    assert listed(readme(service), "Publishes") == published(service)


@pytest.mark.parametrize("service", SERVICES)
def test_the_readme_lists_what_the_service_consumes(service: str):
    assert listed(readme(service), "Consumes") == consumed(service)


def test_the_reader_takes_only_its_own_section_and_only_table_rows():
    text = (
        "**Publishes** (stream `X`)\n\n| subject | when |\n|---|---|\n| `x.thing.done` | now |\n"
        "Mentions `x.other.done` in prose.\n\n**Consumes**\n\n| `y.thing.done` | it |\n"
        "**Settings**\n\n| `z.not.events` | |\n"
    )
    assert listed(text, "Publishes") == {"x.thing.done"}
    assert listed(text, "Consumes") == {"y.thing.done"}
    assert listed("**Consumes** none.\n", "Consumes") == set()

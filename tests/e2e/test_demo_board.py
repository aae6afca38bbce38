"""What `make run` promises about the demo board's "Latest from the team": the
seed's three notes read as a real project's would, newest first, each dated
when the team would have written it (weeks apart), not all at the seed's
minute."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from deploy.seed_cinema import STAGE_PLAN
from tests.e2e.test_documents_portal import client_browser
from tests.suite import Running

pytestmark = pytest.mark.e2e
JANE = "jane.harrison@example.com"


async def test_the_seeds_team_notes_read_newest_first_over_the_projects_history(
    running: Running,
):
    project = running.info["demo_project_id"]
    async with await client_browser(running, JANE) as jane:
        board = (await jane.api("GET", f"/api/v1/projects/{project}/board")).json()
    seeded = {note for _, _, _, note, _ in STAGE_PLAN if note}
    # Other tests may add news to the demo project; the seed's three keep their order.
    notes = [n for n in board["recent_notes"] if n["note"] in seeded]
    assert [n["stage"] for n in notes] == ["install", "procurement", "design"], notes
    at = [datetime.fromisoformat(n["at"]) for n in notes]
    assert at == sorted(at, reverse=True) and len({a.date() for a in at}) == 3
    assert at[0] - at[-1] > timedelta(days=30)

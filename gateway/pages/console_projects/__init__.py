"""The staff console for projects: the list and "new project", and one
project's page (details, stages, rooms and lines, proposals), plus a proposal's
own page (edit a draft, send it, see the signature).

Forms post, then redirect back with a one-line message (flash): the project
page holds many small forms, so a refusal is told at the top rather than
re-rendered next to one field. Rooms, lines and proposals in a URL must belong
to the project in the same URL."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.pages.console_projects import documents, listing, project, proposals, rooms

router = APIRouter(include_in_schema=False)
for module in (listing, project, rooms, proposals, documents):
    router.include_router(module.router)

"""What a client reads is in their words: no hashes, ids, service names or
API enum names on their pages, and one plain sentence for anything that is
not there for them. Staff keep the technical record (the fingerprint)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.gateway import project_fakes as F
from tests.gateway.document_fakes import GUIDE_ID, SCHEMATIC_ID
from tests.gateway.test_documents import gateway, services
from tests.gateway.test_project_pages import PROPOSAL, browser, csrf_of, fakes

__all__ = ["fakes", "services"]  # fixtures, used by name

TEMPLATES = Path(__file__).parents[2] / "gateway" / "templates"
UNAVAILABLE = "This document isn't available \u2014 it may have been removed"
# Words and shapes that mean nothing to a homeowner.
TECHNICAL = re.compile(
    r"sha-?256|fingerprint|uuid|grpc|\brpc\b|_id\b|superseded|unspecified|no such|"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{64}\b",
    re.IGNORECASE,
)


class _Text(HTMLParser):
    """The words a person reads: text, not markup, attributes or scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def technical_words(html: str) -> list[str]:
    return TECHNICAL.findall(visible_text(html))


# `{{ sig.content_sha256 }}` or `{{ doc.id }}` printed as text (an attribute's
# `value="{{ proposal.content_sha256 }}"` is markup, not text).
RAW_VALUE = re.compile(r"\{\{\s*[\w.]*(?:sha256|_id|\.id)\s*(?:\|[^}]*)?\}\}")


@pytest.mark.parametrize(
    "template", sorted(p.name for p in TEMPLATES.glob("*.html")), ids=lambda name: name
)
def test_no_client_template_shows_a_technical_word(template: str) -> None:
    source = (TEMPLATES / template).read_text()
    text = visible_text(re.sub(r"\{#.*?#\}|\{%.*?%\}", "", source, flags=re.DOTALL))
    assert RAW_VALUE.findall(text) == []
    assert technical_words(re.sub(r"\{\{.*?\}\}", "", text)) == []


async def test_a_signed_proposal_shows_the_client_no_fingerprint(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        token = await csrf_of(client, PROPOSAL)
        form = {
            "csrf_token": token,
            "request_id": "6f1c0c9e-3a52-4c1e-9a55-8c1d2f0b7e11",
            "signer_name": "Jane Harrison",
            "consent": "1",
            "content_sha256": F.HASH,
        }
        signed = await client.post(f"{PROPOSAL}/{F.SENT_ID}/accept", data=form)
        page = await client.get(signed.headers["location"])
    assert "Signed and accepted" in page.text
    assert F.HASH not in page.text and technical_words(page.text) == []


async def test_the_signing_form_carries_the_hash_but_does_not_show_it(settings, fakes) -> None:
    async with browser(settings, fakes) as client:
        page = await client.get(PROPOSAL)
    assert page.text.count(F.HASH) == 1  # the hidden field the signature sends back
    assert F.HASH not in visible_text(page.text)
    assert "a code that identifies exactly this version" in page.text


async def test_staff_keep_the_fingerprint(settings, fakes) -> None:
    fakes.projects.proposals = [F.proposal(F.P.PROPOSAL_STATUS_SENT)]
    async with browser(settings, fakes, F.staff_session()) as client:
        page = await client.get(f"/console/projects/{F.PROJECT_ID}/proposals/{F.SENT_ID}")
    assert page.status_code == 200, page.text[:300]
    assert "Fingerprint (SHA-256)" in page.text and F.HASH in page.text


async def test_a_document_that_is_not_there_is_explained_plainly(settings, services) -> None:
    async with gateway(settings, services) as client:
        api = await client.get(f"/api/v1/documents/{SCHEMATIC_ID}")
        page = await client.get(f"/projects/{F.PROJECT_ID}/documents/{SCHEMATIC_ID}/download")
        garbage = await client.get(f"/projects/{F.PROJECT_ID}/documents/not-an-id/download")
        listed = await client.get(f"/projects/{F.PROJECT_ID}/documents")
    assert api.status_code == 404 and api.json()["detail"].startswith(UNAVAILABLE)
    for r in (page, garbage):
        assert r.status_code == 404 and "isn't available" in visible_text(r.text)
        assert technical_words(r.text) == [] and SCHEMATIC_ID not in visible_text(r.text)
    assert listed.status_code == 200 and technical_words(listed.text) == []
    assert GUIDE_ID not in visible_text(listed.text)


async def test_other_versions_are_named_in_the_clients_words(settings, fakes) -> None:
    older = F.proposal(F.P.PROPOSAL_STATUS_SUPERSEDED, id=F.DRAFT_ID, version=1, title="First")
    fakes.projects.proposals = [F.proposal(F.P.PROPOSAL_STATUS_SENT), older]
    async with browser(settings, fakes) as client:
        page = await client.get(PROPOSAL)
    assert "Version 1: First" in page.text and "(replaced)" in page.text
    assert technical_words(page.text) == []

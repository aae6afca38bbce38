"""The signed proposal in the integrator's letterhead, through projects' gRPC:
the letterhead the gateway sends, the signer's email and customer from their
session, the same document on download and in the copy filed in documents."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

import pytest
from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2
from portal.projects.v1 import events_pb2
from portal.projects.v1 import projects_pb2 as pb
from pypdf import PdfReader

from services.chassis.db import UnitOfWork
from services.chassis.events import Event, subject_for
from services.chassis.letterhead import letterhead_of
from services.chassis.timefmt import format_datetime
from services.projects import handlers
from tests.projects.conftest import Integrator, Job

ACCEPTED = subject_for(events_pb2.ProposalAccepted)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
SITE = "14 Larch Lane, Westport, CT 06880"
TENANT = identity_pb2.Tenant(
    display_name="Acme Home Cinema & Automation",
    time_zone="America/New_York",
    branding=identity_pb2.Branding(
        support_email="studio@acme-av.example",
        support_phone="+1 555 0134",
        postal_address="418 Hudson Street, Suite 2\n\nNew York, NY 10014",
        website="https://acme-av.example",
        logo_url="https://cdn.acme-av.example/logo.png",  # never fetched
    ),
)


class Filed:
    """Documents, as projects' handler sees it: remembers what was filed."""

    def __init__(self) -> None:
        self.copies: list[dict] = []

    async def store_signed_copy(self, **copy: object) -> None:
        self.copies.append(copy)


def text_of(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


@pytest.fixture
async def signed(acme: Integrator, job: Job) -> tuple[pb.Proposal, common_pb2.Letterhead]:
    await acme(
        "UpdateProject",
        pb.UpdateProjectRequest(project_id=job.project.id, site_address=SITE),
        acme.pm,
    )
    draft = await acme.proposal(job.project.id, labour_minor=50_000, tax_rate_bps=825)
    sent = await acme.send(draft.id)
    letterhead = letterhead_of(TENANT)
    accepted = await acme.accept(
        sent,
        signer_name="Jane Harrison",
        signer_email="jane.harrison@example.com",
        client_name="The Harrison Family",
        letterhead=letterhead,
    )
    return accepted, letterhead


def test_the_letterhead_is_built_from_the_tenants_branding_without_its_logo_url():
    letterhead = letterhead_of(TENANT)
    assert letterhead.integrator_name == "Acme Home Cinema & Automation"
    assert list(letterhead.address_lines) == ["418 Hudson Street, Suite 2", "New York, NY 10014"]
    assert (letterhead.contact_email, letterhead.contact_phone, letterhead.website) == (
        "studio@acme-av.example",
        "+1 555 0134",
        "https://acme-av.example",
    )
    assert letterhead.time_zone == "America/New_York"
    assert letterhead.logo == b""  # a URL-only logo is not fetched at render time


async def test_the_signed_pdf_names_both_parties_in_the_tenants_letterhead(
    acme: Integrator, signed: tuple[pb.Proposal, common_pb2.Letterhead]
):
    accepted, letterhead = signed
    assert accepted.signature.signer_email == "jane.harrison@example.com"
    answer = await acme(
        "GetSignedProposalPdf",
        pb.GetSignedProposalPdfRequest(proposal_id=accepted.id, letterhead=letterhead),
        acme.approver,
    )
    text = text_of(answer.pdf)
    signed_at = accepted.signature.signed_at.ToDatetime(tzinfo=UTC)
    local = format_datetime(signed_at, "America/New_York")
    assert local.endswith(("EST", "EDT"))
    for expected in (
        "Acme Home Cinema & Automation",
        "418 Hudson Street, Suite 2",
        "New York, NY 10014",
        "studio@acme-av.example",
        "+1 555 0134",
        "https://acme-av.example",
        "The Harrison Family",
        SITE,
        "Jane Harrison",
        "jane.harrison@example.com",
        "$3,082.92",
        f"Signed {local}",
    ):
        assert expected in text, expected
    assert UUID.search(text) is None and UUID.search(answer.pdf.decode("latin-1")) is None
    assert b"/Subtype /Image" not in answer.pdf  # no uploaded logo, and the URL is not fetched


async def test_the_filed_copy_wears_the_letterhead_sent_with_the_acceptance(
    acme: Integrator, signed: tuple[pb.Proposal, common_pb2.Letterhead]
):
    accepted, letterhead = signed
    (event,) = await acme.svc.events(acme.tenant_id, events_pb2.ProposalAccepted)
    assert event.letterhead == letterhead
    assert event.signer_email == "jane.harrison@example.com"
    assert event.client_name == "The Harrison Family"
    filed = Filed()
    (sub,) = [
        s
        for s in handlers.subscriptions(documents=filed, tenants=acme.svc.tenants)
        if s.payload_type is events_pb2.ProposalAccepted
    ]
    async with UnitOfWork(acme.svc.sessions, acme.tenant_id) as uow:
        await sub.handler(
            uow,
            Event(
                id=str(uuid.uuid4()),
                type=ACCEPTED,
                tenant_id=acme.tenant_id,
                occurred_at=datetime.now(UTC),
                aggregate_type="proposal",
                aggregate_id=accepted.id,
                payload=event,
            ),
        )
    (copy,) = filed.copies
    downloaded = await acme(
        "GetSignedProposalPdf",
        pb.GetSignedProposalPdfRequest(proposal_id=accepted.id, letterhead=letterhead),
        acme.technician,
    )
    assert copy["data"] == downloaded.pdf  # one document, wherever it is read
    assert "Acme Home Cinema & Automation" in text_of(copy["data"])

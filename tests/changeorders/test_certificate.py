"""The approval certificate: the order as signed, the diff, the signature
block and the audit log with its hashes, in the integrator's letterhead;
the same bytes each time; only for an approved order."""

from __future__ import annotations

import io

from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as ppb
from pypdf import PdfReader

from tests.changeorders.conftest import PRECONDITION, REMOVED, Site, subwoofer

LETTERHEAD = common_pb2.Letterhead(
    integrator_name="Acme Home Cinema",
    contact_email="studio@acme.example",
    time_zone="Europe/London",
)


async def certificate(site: Site, order_id: str, principal) -> pb.GetCertificatePdfResponse:
    request = pb.GetCertificatePdfRequest(change_order_id=order_id, letterhead=LETTERHEAD)
    return await site("GetCertificatePdf", request, principal)


async def test_the_certificate_holds_the_order_the_signature_and_the_log(site: Site):
    await site.side(
        "UpdateStage",
        ppb.UpdateStageRequest(
            project_id=site.project.id, stage=ppb.STAGE_INSTALL, planned_start="2031-03-02"
        ),
        site.pm,
    )
    sent = await site.sent(
        subwoofer(),
        pb.LineChange(kind=REMOVED, line_key="R2.1"),
        schedule_impact_days=4,
        shift_from_stage="install",
    )
    await site.get(sent.id, site.approver, mark_viewed=True)
    await site.approve(sent, client_name="The Harrison Residence")

    mine = await certificate(site, sent.id, site.approver)
    theirs = await certificate(site, sent.id, site.pm)
    assert mine.pdf == theirs.pdf and mine.pdf.startswith(b"%PDF")  # the same document
    assert mine.filename == f"{site.project.reference}-CO-001-certificate.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(mine.pdf)).pages)
    trail = await site("GetAuditTrail", pb.GetAuditTrailRequest(change_order_id=sent.id), site.pm)
    for expected in (
        "Acme Home Cinema",
        "The Harrison Residence",
        "CO-001: Second subwoofer",
        "SVS SB-3000 subwoofer (added)",
        "Other items",  # the hidden rack's switch, as the client saw it
        "Price impact",
        "Schedule: +4 days",
        "2031-03-06",
        "Jane Harrison",
        "203.0.113.7",
        sent.content_sha256,
        "all 4 entries hold",
        *(e.sha256 for e in trail.entries),
    ):
        assert expected in text, expected
    assert "Managed switch" not in text


async def test_only_an_approved_order_has_a_certificate(site: Site):
    sent = await site.sent()
    err = await site.fails(
        PRECONDITION,
        "GetCertificatePdf",
        pb.GetCertificatePdfRequest(change_order_id=sent.id),
        site.approver,
    )
    assert "has not been approved" in err.details()

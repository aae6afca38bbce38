"""The client's approver accepts the version they were shown, once, with the
evidence of an e-signature; the signed PDF."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED
from portal.projects.v1 import events_pb2
from portal.projects.v1 import projects_pb2 as pb

from services.projects import domain_proposals as dp
from tests.projects.conftest import DENIED, INVALID, NOT_FOUND, PRECONDITION, Integrator, Job


@pytest.fixture
async def sent(acme: Integrator, job: Job) -> pb.Proposal:
    draft = await acme.proposal(job.project.id, labour_minor=50_000, tax_rate_bps=825)
    return await acme.send(draft.id)


async def test_accepting_records_the_signature_and_tells_everyone(
    acme: Integrator, job: Job, sent: pb.Proposal
):
    shown = await acme.get_proposal(sent.id, acme.approver)
    await acme.svc.sql(
        acme.tenant_id,
        "UPDATE project SET site_address = '4 Orchard Rise, Harrogate' WHERE id = :id",
        id=uuid.UUID(job.project.id),
    )
    session_id = str(uuid.uuid4())
    signing = replace(acme.approver, session_id=session_id)
    accepted = await acme.accept(shown, signing, signer_name="  Jane  Harrison ")
    assert accepted.status == pb.PROPOSAL_STATUS_ACCEPTED
    sig = accepted.signature
    assert sig.signer_name == "Jane Harrison"
    assert sig.signer_contact_id == acme.approver_id
    assert sig.consent_text == dp.CONSENT_TEXT == shown.consent_text
    assert sig.content_sha256 == sent.content_sha256
    assert (sig.ip, sig.user_agent) == ("203.0.113.7", "Mozilla/5.0 (pytest)")
    assert abs(sig.signed_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)
    assert accepted.rooms == shown.rooms  # the client still sees what they signed
    (row,) = await acme.svc.sql(
        acme.tenant_id,
        "SELECT signer_session_id FROM proposal_signature WHERE proposal_id = :id",
        id=sent.id,
    )
    assert row.signer_session_id == session_id  # how they were signed in

    (event,) = await acme.svc.events(acme.tenant_id, events_pb2.ProposalAccepted)
    assert event.proposal_id == sent.id and event.project_id == job.project.id
    assert event.total.amount_minor == sent.total.amount_minor == 308_292
    assert (event.signer_name, event.content_sha256) == ("Jane Harrison", sent.content_sha256)
    assert event.customer_id == acme.customer_id and event.version == 1
    # The site as it stood, for payments' invoices and receipts.
    assert event.site_address == "4 Orchard Rise, Harrogate"

    board = await acme.board(job.project.id, acme.approver)
    assert list(board.waiting_on) == []
    assert board.budget.accepted_proposal.amount_minor == 308_292
    assert board.budget.approved_variations.amount_minor == 0
    assert board.budget.contract_value.amount_minor == 308_292
    assert board.budget.contract_value.currency == "USD"
    assert board.budget.accepted_proposal_id == sent.id


async def test_acceptance_happens_once_and_a_retry_answers_with_it(
    acme: Integrator, sent: pb.Proposal
):
    request = acme.accept_request(sent)
    first = (await acme("AcceptProposal", request, acme.approver)).proposal
    again = (await acme("AcceptProposal", request, acme.approver)).proposal
    assert again.signature == first.signature
    err = await acme.fails(PRECONDITION, "AcceptProposal", acme.accept_request(sent), acme.approver)
    assert "already been accepted" in err.details()
    assert len(await acme.svc.events(acme.tenant_id, events_pb2.ProposalAccepted)) == 1


async def test_a_tampered_or_stale_hash_is_refused(acme: Integrator, sent: pb.Proposal):
    tampered = ("0" if sent.content_sha256[0] != "0" else "1") + sent.content_sha256[1:]
    err = await acme.fails(
        PRECONDITION,
        "AcceptProposal",
        acme.accept_request(sent, content_sha256=tampered),
        acme.approver,
    )
    assert "changed since you opened it" in err.details()
    await acme.fails(
        PRECONDITION, "AcceptProposal", acme.accept_request(sent, content_sha256=""), acme.approver
    )
    assert (await acme.get_proposal(sent.id, acme.approver)).status == pb.PROPOSAL_STATUS_SENT


async def test_consent_and_a_typed_name_are_required(acme: Integrator, sent: pb.Proposal):
    err = await acme.fails(
        INVALID, "AcceptProposal", acme.accept_request(sent, consent=False), acme.approver
    )
    assert "tick the box" in err.details()
    err = await acme.fails(
        INVALID, "AcceptProposal", acme.accept_request(sent, signer_name=" "), acme.approver
    )
    assert "full name" in err.details()


async def test_a_superseded_version_cannot_be_accepted(
    acme: Integrator, job: Job, sent: pb.Proposal
):
    shown_v1 = await acme.get_proposal(sent.id, acme.approver)
    await acme.send((await acme.proposal(job.project.id, discount_minor=1_000)).id)
    err = await acme.fails(
        PRECONDITION, "AcceptProposal", acme.accept_request(shown_v1), acme.approver
    )
    assert "a newer version was sent; review it" in err.details()


async def test_a_viewer_cannot_accept(acme: Integrator, sent: pb.Proposal):
    shown = await acme.get_proposal(sent.id, acme.viewer)  # but may read it
    err = await acme.fails(DENIED, "AcceptProposal", acme.accept_request(shown), acme.viewer)
    assert "only an approver can" in err.details()


async def test_a_read_only_approver_cannot_accept(acme: Integrator, sent: pb.Proposal):
    archived = acme.client(read_only=True)
    err = await acme.fails(DENIED, "AcceptProposal", acme.accept_request(sent), archived)
    assert "read-only" in err.details()


async def test_an_archived_customer_cannot_accept_even_with_a_writable_token(
    acme: Integrator, sent: pb.Proposal
):
    """Projects' own copy of the access state decides, not only the token."""
    await acme.change_access(ACCESS_STATE_ARCHIVED)
    err = await acme.fails(DENIED, "AcceptProposal", acme.accept_request(sent), acme.approver)
    assert "read-only" in err.details()
    assert (await acme.get_proposal(sent.id, acme.approver)).status == pb.PROPOSAL_STATUS_SENT


async def test_staff_cannot_sign_for_the_client(acme: Integrator, sent: pb.Proposal):
    await acme.fails(DENIED, "AcceptProposal", acme.accept_request(sent), acme.pm)


async def test_a_closed_portal_cannot_accept(acme: Integrator, sent: pb.Proposal):
    await acme.close_portal()
    err = await acme.fails(DENIED, "AcceptProposal", acme.accept_request(sent), acme.approver)
    assert "closed" in err.details()


async def test_two_approvers_clicking_at_once_make_one_acceptance(
    acme: Integrator, sent: pb.Proposal
):
    second_approver = acme.client(subject=str(uuid.uuid4()))
    results = await asyncio.gather(
        acme("AcceptProposal", acme.accept_request(sent), acme.approver),
        acme("AcceptProposal", acme.accept_request(sent, signer_name="John Harrison"),
             second_approver),
        return_exceptions=True,
    )  # fmt: skip
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code() == PRECONDITION and "already been accepted" in lost[0].details()
    assert len(await acme.svc.events(acme.tenant_id, events_pb2.ProposalAccepted)) == 1
    rows = await acme.svc.sql(
        acme.tenant_id, "SELECT count(*) AS n FROM proposal_signature WHERE proposal_id = :id",
        id=sent.id,
    )  # fmt: skip
    assert rows[0].n == 1


async def test_the_signed_pdf_carries_the_signature(acme: Integrator, job: Job, sent: pb.Proposal):
    await acme.fails(
        PRECONDITION,
        "GetSignedProposalPdf",
        pb.GetSignedProposalPdfRequest(proposal_id=sent.id),
        acme.approver,
    )
    accepted = await acme.accept(sent, signer_name="Jane Harrison")
    answer = await acme(
        "GetSignedProposalPdf", pb.GetSignedProposalPdfRequest(proposal_id=sent.id), acme.approver
    )
    assert answer.pdf.startswith(b"%PDF-")
    assert answer.filename == f"{job.project.reference}-proposal-v1-signed.pdf"
    for text in (b"Jane Harrison", sent.content_sha256.encode(), b"203.0.113.7", b"$3,082.92"):
        assert text in answer.pdf, text
    assert b"HDMI" not in answer.pdf  # internal lines stay internal on paper too
    signed_at = accepted.signature.signed_at.ToDatetime(tzinfo=UTC)
    assert signed_at.strftime("D:%Y%m%d%H%M%S").encode() in answer.pdf
    staff_copy = await acme(
        "GetSignedProposalPdf", pb.GetSignedProposalPdfRequest(proposal_id=sent.id), acme.technician
    )
    assert staff_copy.pdf == answer.pdf  # the same document every time


async def test_an_unknown_proposal_is_not_found(acme: Integrator):
    request = pb.AcceptProposalRequest(
        request_id="r", proposal_id=str(uuid.uuid4()), signer_name="Jane", consent=True
    )
    await acme.fails(NOT_FOUND, "AcceptProposal", request, acme.approver)

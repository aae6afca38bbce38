"""Proposals: versions snapshot the rooms, sending freezes and hashes exactly
what the client sees, and the accepted version never changes again."""

from __future__ import annotations

import uuid

import pytest
from portal.projects.v1 import events_pb2
from portal.projects.v1 import projects_pb2 as pb

from services.projects import domain_proposals as dp
from tests.projects.conftest import INVALID, PRECONDITION, Integrator, Job


def recompute(project: pb.Project, p: pb.Proposal) -> str:
    """The hash of what a client's GetProposal shows, computed from the answer alone."""
    return dp.SignedContent(
        project_reference=project.reference,
        project_name=project.name,
        version=p.version,
        title=p.title,
        introduction=p.introduction,
        currency=p.total.currency,
        rooms=tuple(
            dp.ClientRoom(
                name=room.name,
                lines=tuple(
                    dp.ClientLine(
                        line.description,
                        line.quantity,
                        line.unit_price.amount_minor,
                        line.line_total.amount_minor,
                    )
                    for line in room.lines
                ),
                other_items_minor=room.other_items.amount_minor,
                total_minor=room.total.amount_minor,
            )
            for room in p.rooms
        ),
        labour_minor=p.labour.amount_minor,
        discount_minor=p.discount.amount_minor,
        tax_rate_bps=p.tax_rate_bps,
        subtotal_minor=p.subtotal.amount_minor,
        tax_minor=p.tax.amount_minor,
        total_minor=p.total.amount_minor,
        consent_text=p.consent_text,
    ).sha256()


async def test_a_draft_snapshots_every_room_and_line(acme: Integrator, job: Job):
    draft = await acme.proposal(job.project.id, labour_minor=50_000, tax_rate_bps=825)
    assert (draft.version, draft.status) == (1, pb.PROPOSAL_STATUS_DRAFT)
    assert draft.content_sha256 == "" and not draft.HasField("sent_at")
    # Staff see everything itemised, hidden rooms and lines included.
    assert [r.name for r in draft.rooms] == ["Living room", "Equipment rack"]
    assert [x.description for x in draft.rooms[0].lines] == [
        "Sonos Arc - Soundbar",
        "HDMI 2.1 cable set",
    ]
    assert draft.subtotal.amount_minor == 189_796 + 45_000 + 50_000
    assert draft.tax.amount_minor == 23_496  # 8.25 % of 284,796 = 23,495.67, once
    assert draft.total.amount_minor == 284_796 + 23_496
    assert draft.consent_text == dp.CONSENT_TEXT
    second = await acme.proposal(job.project.id)
    assert second.version == 2


async def test_a_retried_create_proposal_makes_one_version(acme: Integrator, job: Job):
    request = pb.CreateProposalRequest(
        request_id=str(uuid.uuid4()), project_id=job.project.id, title="Audio"
    )
    first = (await acme("CreateProposal", request, acme.pm)).proposal
    again = (await acme("CreateProposal", request, acme.pm)).proposal
    assert first.id == again.id and again.version == 1


async def test_a_draft_keeps_its_snapshot_until_refreshed(acme: Integrator, job: Job):
    draft = await acme.proposal(job.project.id)
    await acme.line(job.living.id, "Sub Mini", 1, 49_900, manufacturer="Sonos")
    kept = (
        await acme(
            "UpdateProposal",
            pb.UpdateProposalRequest(proposal_id=draft.id, title="Revised", tax_rate_bps=500),
            acme.pm,
        )
    ).proposal
    assert kept.title == "Revised" and kept.total.amount_minor == round(
        draft.subtotal.amount_minor * 1.05
    )
    assert len(kept.rooms[0].lines) == 2
    refreshed = (
        await acme(
            "UpdateProposal",
            pb.UpdateProposalRequest(proposal_id=draft.id, title="Revised", refresh_lines=True),
            acme.pm,
        )
    ).proposal
    assert [x.description for x in refreshed.rooms[0].lines][-1] == "Sonos Sub Mini"
    assert refreshed.subtotal.amount_minor == draft.subtotal.amount_minor + 49_900


async def test_terms_are_checked(acme: Integrator, job: Job):
    err = await acme.fails(
        INVALID,
        "CreateProposal",
        pb.CreateProposalRequest(project_id=job.project.id, title="X", discount_minor=10**9),
        acme.pm,
    )
    assert "discount_minor" in err.details()
    await acme.fails(
        INVALID,
        "CreateProposal",
        pb.CreateProposalRequest(project_id=job.project.id, title="X", tax_rate_bps=5_001),
        acme.pm,
    )


async def test_sending_hashes_exactly_what_the_client_is_shown(acme: Integrator, job: Job):
    draft = await acme.proposal(job.project.id, labour_minor=50_000, tax_rate_bps=825)
    sent = await acme.send(draft.id)
    assert sent.status == pb.PROPOSAL_STATUS_SENT and len(sent.content_sha256) == 64
    shown = await acme.get_proposal(sent.id, acme.approver)
    # The client's view: hidden lines summed, hidden rooms together, totals adding up.
    assert [r.name for r in shown.rooms] == ["Living room", dp.OTHER_ROOMS_NAME]
    assert [x.description for x in shown.rooms[0].lines] == ["Sonos Arc - Soundbar"]
    assert shown.rooms[0].other_items.amount_minor == 4 * 2_499
    assert sum(r.total.amount_minor for r in shown.rooms) + 50_000 == shown.subtotal.amount_minor
    assert "Managed switch" not in str(shown) and "HDMI" not in str(shown)
    # The stored hash is the hash of that view, and of the stored canonical text.
    assert recompute(job.project, shown) == sent.content_sha256 == shown.content_sha256
    (row,) = await acme.svc.sql(
        acme.tenant_id,
        "SELECT content_json, content_sha256 FROM proposal WHERE id = :id",
        id=sent.id,
    )
    assert dp.sha256_hex(row.content_json) == row.content_sha256 == sent.content_sha256
    assert dp.SignedContent.from_json(row.content_json).canonical_json() == row.content_json
    (event,) = await acme.svc.events(acme.tenant_id, events_pb2.ProposalSent)
    assert (event.proposal_id, event.version, event.total.amount_minor) == (
        sent.id,
        1,
        sent.total.amount_minor,
    )
    assert event.customer_id == acme.customer_id and event.reference == job.project.reference


async def test_sending_again_is_a_no_op(acme: Integrator, job: Job):
    draft = await acme.proposal(job.project.id)
    first = await acme.send(draft.id)
    again = await acme.send(draft.id)
    assert again.sent_at == first.sent_at
    assert len(await acme.svc.events(acme.tenant_id, events_pb2.ProposalSent)) == 1


async def test_a_proposal_with_no_lines_cannot_be_sent(acme: Integrator):
    project = await acme.project()
    await acme.room(project.id, "Empty room")
    draft = await acme.proposal(project.id, labour_minor=10_000)
    err = await acme.fails(
        PRECONDITION, "SendProposal", pb.SendProposalRequest(proposal_id=draft.id), acme.pm
    )
    assert "no product lines" in err.details()


async def test_sending_a_new_version_supersedes_the_one_in_front_of_the_client(
    acme: Integrator, job: Job
):
    v1 = await acme.send((await acme.proposal(job.project.id)).id)
    v2_draft = await acme.proposal(job.project.id, discount_minor=5_000)
    v3_draft = await acme.proposal(job.project.id)
    await acme.send(v2_draft.id)
    assert (await acme.get_proposal(v1.id, acme.approver)).status == (pb.PROPOSAL_STATUS_SUPERSEDED)
    listed = await acme(
        "ListProposals", pb.ListProposalsRequest(project_id=job.project.id), acme.approver
    )
    assert [(p.version, p.status) for p in listed.proposals] == [
        (2, pb.PROPOSAL_STATUS_SENT),
        (1, pb.PROPOSAL_STATUS_SUPERSEDED),
    ]
    assert all(not p.rooms for p in listed.proposals)  # lists are summaries
    await acme.send(v3_draft.id)
    assert (await acme.get_proposal(v2_draft.id, acme.approver)).status == (
        pb.PROPOSAL_STATUS_SUPERSEDED
    )
    # An older draft cannot jump in front of a newer sent version.
    v4 = await acme.proposal(job.project.id)
    v5 = await acme.send((await acme.proposal(job.project.id)).id)
    err = await acme.fails(
        PRECONDITION, "SendProposal", pb.SendProposalRequest(proposal_id=v4.id), acme.pm
    )
    assert "v5 has already been sent" in err.details() and v5.version == 5
    # The database holds one version in front of the client, whatever happens.
    rows = await acme.svc.sql(
        acme.tenant_id,
        "SELECT version FROM proposal WHERE project_id = :p AND status = 2",
        p=job.project.id,
    )
    assert [r.version for r in rows] == [5]


async def test_a_sent_proposal_cannot_be_edited(acme: Integrator, job: Job):
    sent = await acme.send((await acme.proposal(job.project.id)).id)
    err = await acme.fails(
        PRECONDITION,
        "UpdateProposal",
        pb.UpdateProposalRequest(proposal_id=sent.id, title="Sneaky"),
        acme.pm,
    )
    assert "create a new version" in err.details()


async def test_the_accepted_proposal_is_the_immutable_baseline(acme: Integrator, job: Job):
    sent = await acme.send((await acme.proposal(job.project.id, tax_rate_bps=825)).id)
    accepted = await acme.accept(sent)
    for method, request in [
        ("UpdateProposal", pb.UpdateProposalRequest(proposal_id=sent.id, title="Cheaper")),
        ("SendProposal", pb.SendProposalRequest(proposal_id=sent.id)),
        ("CreateProposal", pb.CreateProposalRequest(project_id=job.project.id, title="v2")),
    ]:
        err = await acme.fails(PRECONDITION, method, request, acme.pm)
        assert "baseline" in err.details() or "accepted" in err.details(), err.details()
    # The rooms may change for later variations; the accepted snapshot does not.
    await acme.line(job.living.id, "Era 300", 2, 44_900, manufacturer="Sonos")
    await acme("RemoveProductLine", pb.RemoveProductLineRequest(line_id=job.soundbar.id), acme.pm)
    await acme("DeleteRoom", pb.DeleteRoomRequest(room_id=job.rack.id), acme.pm)
    after = await acme.get_proposal(sent.id, acme.approver)
    assert after.rooms == accepted.rooms and after.total == accepted.total
    assert recompute(job.project, after) == sent.content_sha256
    staff_view = await acme.get_proposal(sent.id, acme.pm)
    assert [r.name for r in staff_view.rooms] == ["Living room", "Equipment rack"]


async def test_the_database_refuses_to_change_frozen_content(acme: Integrator, job: Job):
    sent = await acme.send((await acme.proposal(job.project.id)).id)
    for statement in [
        "UPDATE proposal SET total_minor = 1 WHERE id = :id",
        "UPDATE proposal_line SET unit_price_minor = 1 WHERE proposal_id = :id",
        "DELETE FROM proposal_room WHERE proposal_id = :id",
        "DELETE FROM proposal WHERE id = :id",
    ]:
        with pytest.raises(Exception, match=r"frozen|cannot"):
            await acme.svc.sql(acme.tenant_id, statement, id=sent.id)
    await acme.accept(sent)
    with pytest.raises(Exception, match="cannot change"):
        await acme.svc.sql(
            acme.tenant_id, "UPDATE proposal SET status = 2 WHERE id = :id", id=sent.id
        )
    with pytest.raises(Exception, match="evidence"):
        await acme.svc.sql(
            acme.tenant_id,
            "UPDATE proposal_signature SET signer_name = 'Someone' WHERE proposal_id = :id",
            id=sent.id,
        )

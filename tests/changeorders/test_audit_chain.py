"""The evidence pack's log on real PostgreSQL: every step of an order is a
hash-chained entry, the database refuses to change or remove one, and an
entry changed behind the trigger's back (a superuser with triggers off) is
found, by the gRPC trail and by `portal changeorders verify`."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from portal.changeorders.v1 import changeorders_pb2 as pb
from sqlalchemy.exc import DBAPIError

from deploy import changeorders_cli, cli
from deploy.infra import Postgres
from tests.changeorders.conftest import Site


async def trail(site: Site, order_id: str) -> pb.GetAuditTrailResponse:
    request = pb.GetAuditTrailRequest(change_order_id=order_id)
    return await site("GetAuditTrail", request, site.pm)


async def approved(site: Site) -> pb.ChangeOrder:
    sent = await site.sent()
    await site.get(sent.id, site.approver, mark_viewed=True)
    return await site.approve(sent)


async def test_each_step_is_an_entry_linked_to_the_one_before(site: Site):
    order = await approved(site)
    answer = await trail(site, order.id)
    assert answer.intact and answer.first_broken_seq == 0
    assert [e.action for e in answer.entries] == ["created", "sent", "viewed", "approved"]
    assert answer.entries[0].prev_sha256 == "0" * 64
    for before, entry in zip(answer.entries, answer.entries[1:], strict=False):
        assert entry.prev_sha256 == before.sha256
    signed = answer.entries[-1]
    assert f'"content_sha256":"{order.content_sha256}"' in signed.facts_json
    assert '"signer_name":"Jane Harrison"' in signed.facts_json


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET actor = 'staff:someone-else' WHERE change_order_id = :i",
        "DELETE FROM audit_entry WHERE change_order_id = :i",
        "UPDATE approval SET signer_name = 'Someone Else' WHERE change_order_id = :i",
        "DELETE FROM approval WHERE change_order_id = :i",
        "UPDATE change_order_revision SET title = 'Cheaper' WHERE change_order_id = :i",
    ],
)
async def test_the_database_refuses_to_rewrite_evidence(site: Site, statement: str):
    order = await approved(site)
    with pytest.raises(DBAPIError, match=r"evidence|frozen"):
        await site.svc.sql(site.tenant_id, statement, i=order.id)


async def test_truncating_the_log_is_refused(site: Site):
    with pytest.raises(DBAPIError, match="evidence"):
        await site.svc.sql(site.tenant_id, "TRUNCATE audit_entry")


async def tamper(postgres: Postgres, database_url: str, statement: str, *args: object) -> None:
    """As the superuser with triggers off for the session: what no service
    code path can do, and what the chain exists to find."""
    name = database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(postgres.admin_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def test_an_edited_entry_is_found_and_named(site: Site, postgres: Postgres):
    order = await approved(site)
    await tamper(
        postgres,
        site.svc.url,
        """UPDATE audit_entry SET facts = jsonb_set(facts, '{ip}', '"198.51.100.1"')
           WHERE change_order_id = $1 AND action = 'approved'""",
        uuid.UUID(order.id),
    )
    answer = await trail(site, order.id)
    assert not answer.intact
    assert answer.first_broken_seq == 4
    assert "changed" in answer.problem


async def test_a_removed_entry_breaks_the_chain_where_it_was(site: Site, postgres: Postgres):
    order = await approved(site)
    await tamper(
        postgres,
        site.svc.url,
        "DELETE FROM audit_entry WHERE change_order_id = $1 AND seq = 2",
        uuid.UUID(order.id),
    )
    answer = await trail(site, order.id)
    assert (answer.intact, answer.first_broken_seq) == (False, 2)
    assert "missing" in answer.problem


async def test_the_cli_reports_the_first_broken_link(
    site: Site, postgres: Postgres, capsys: pytest.CaptureFixture[str]
):
    order = await approved(site)
    url, ref = site.svc.url, site.project.reference
    assert await changeorders_cli.verify(url, site.tenant_id, ref, "CO-001") == 0
    assert "the chain holds: 4 entries" in capsys.readouterr().out
    await tamper(
        postgres,
        url,
        "UPDATE audit_entry SET actor = 'client:someone' WHERE change_order_id = $1 AND seq = 3",
        uuid.UUID(order.id),
    )
    assert await changeorders_cli.verify(url, site.tenant_id, site.project.id, "1") == 1
    out = capsys.readouterr().out
    assert "CO-001: the chain is broken at entry 3" in out
    assert await changeorders_cli.verify(url, site.tenant_id, ref, "CO-009") == 2


def test_the_portal_command_reads_the_service_settings(
    monkeypatch: pytest.MonkeyPatch, keypair: tuple[str, str]
):
    seen: list[tuple[str, str, str, str]] = []

    async def fake_verify(url: str, tenant: str, project: str, number: str) -> int:
        seen.append((url, tenant, project, number))
        return 1

    monkeypatch.setenv("CHANGEORDERS_DATABASE_URL", "postgresql+asyncpg://u:p@h/db")
    monkeypatch.setenv("CHANGEORDERS_PRINCIPAL_PUBLIC_KEY", keypair[1])
    monkeypatch.setattr(changeorders_cli, "verify", fake_verify)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["changeorders", "verify", "CO-003", "--project", "PRJ-0001", "--tenant", "t"])
    assert exit_.value.code == 1
    assert seen == [("postgresql+asyncpg://u:p@h/db", "t", "PRJ-0001", "CO-003")]

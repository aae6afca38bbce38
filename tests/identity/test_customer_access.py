"""A customer's access: archive (read-only), delete (closed, restorable for 30
days), restore, purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from tests.identity.conftest import World

UNAUTH = grpc.StatusCode.UNAUTHENTICATED


def at(offset: timedelta) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.now(UTC) + offset)
    return ts


async def access_events(world: World) -> list[events_pb2.CustomerAccessChanged]:
    return await world.identity.events(world.tenant_id, events_pb2.CustomerAccessChanged)


async def purge(world: World, offset: timedelta | None = None) -> int:
    request = pb.PurgeDeletedCustomersRequest()
    if offset is not None:
        request.now.CopyFrom(at(offset))
    return (await world.identity("PurgeDeletedCustomers", request, world.platform)).purged


async def test_archiving_makes_live_sessions_read_only_and_restoring_undoes_it(world: World):
    opened = await world.invite_and_set_password(world.approver)
    assert not (await world.resolve(opened.token)).read_only
    customer = await world.change_access(pb.ACCESS_STATE_ARCHIVED)
    assert customer.access_state == pb.ACCESS_STATE_ARCHIVED
    assert customer.HasField("access_changed_at") and not customer.HasField("purge_after")
    session = await world.resolve(opened.token)
    assert session.read_only and session.access_state == pb.ACCESS_STATE_ARCHIVED
    await world.change_access(pb.ACCESS_STATE_ACTIVE)
    assert not (await world.resolve(opened.token)).read_only

    events = await access_events(world)
    assert [(e.from_state, e.to_state) for e in events] == [
        (pb.ACCESS_STATE_ACTIVE, pb.ACCESS_STATE_ARCHIVED),
        (pb.ACCESS_STATE_ARCHIVED, pb.ACCESS_STATE_ACTIVE),
    ]
    assert [r.email for r in events[0].contacts] == [world.approver.email, world.viewer.email]
    assert events[0].changed_by == "Pat" and events[0].customer_name == "The Harrison Residence"
    actions = [e.action for e in await world.audit()]
    assert actions[:2] == ["customer.restored", "customer.archived"]


async def test_deleting_ends_every_contacts_sessions_at_once(world: World):
    jane = await world.invite_and_set_password(world.approver)
    tom = await world.invite_and_set_password(world.viewer)
    customer = await world.change_access(pb.ACCESS_STATE_DELETED)
    assert customer.access_state == pb.ACCESS_STATE_DELETED
    purge_after = customer.purge_after.ToDatetime(tzinfo=UTC)
    assert abs(purge_after - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    for opened in (jane, tom):
        err = await world.identity.fails(
            UNAUTH, "ResolveSession", pb.ResolveSessionRequest(token=opened.token), world.gateway
        )
        assert "Sign in again" in err.details()
    rows = await world.identity.sql(
        world.tenant_id,
        "SELECT DISTINCT revoked_reason FROM session WHERE customer_id = :c",
        c=world.customer.id,
    )
    assert [r.revoked_reason for r in rows] == ["customer_deleted"]
    (event,) = await access_events(world)
    assert event.to_state == pb.ACCESS_STATE_DELETED and event.purge_after == customer.purge_after
    # Magic links: the same answer, and nothing sent.
    await world.identity(
        "RequestMagicLink",
        pb.RequestMagicLinkRequest(email=world.approver.email, client_ip=world.client_ip),
        world.gateway,
    )
    assert await world.identity.events(world.tenant_id, events_pb2.MagicLinkRequested) == []


async def test_delete_restore_delete_then_purge_after_thirty_days(world: World):
    await world.invite_and_set_password(world.approver)
    await world.change_access(pb.ACCESS_STATE_DELETED)
    restored = await world.change_access(pb.ACCESS_STATE_ACTIVE)
    assert restored.access_state == pb.ACCESS_STATE_ACTIVE and not restored.HasField("purge_after")
    assert await world.sign_in(world.approver.email)  # the password survived the round trip
    await world.change_access(pb.ACCESS_STATE_DELETED)

    listed = await world.identity(
        "ListCustomers", pb.ListCustomersRequest(), world.staff(world.technician)
    )
    assert world.customer.id not in [c.id for c in listed.customers]
    listed = await world.identity(
        "ListCustomers", pb.ListCustomersRequest(include_deleted=True), world.staff(world.pm)
    )
    assert world.customer.id in [c.id for c in listed.customers]

    assert await purge(world, timedelta(days=29)) == 0  # still restorable
    assert await purge(world, timedelta(days=31)) == 1
    assert await purge(world, timedelta(days=31)) == 0  # once

    gone = await world.get_customer()
    assert gone.access_state == pb.ACCESS_STATE_PURGED and gone.name == "" and not gone.contacts
    for include_deleted in (False, True):
        listed = await world.identity(
            "ListCustomers",
            pb.ListCustomersRequest(include_deleted=include_deleted),
            world.staff(world.pm),
        )
        assert world.customer.id not in [c.id for c in listed.customers]
    for table in ("contact", "login_token"):
        rows = await world.identity.sql(world.tenant_id, f"SELECT count(*) AS n FROM {table}")
        assert rows[0].n == 0, table
    rows = await world.identity.sql(
        world.tenant_id, "SELECT count(*) AS n FROM session WHERE customer_id = :c", c=gone.id
    )
    assert rows[0].n == 0
    purged = await world.identity.events(world.tenant_id, events_pb2.CustomerPurged)
    assert [p.customer_id for p in purged] == [world.customer.id]
    last = (await access_events(world))[-1]
    assert (last.from_state, last.to_state) == (pb.ACCESS_STATE_DELETED, pb.ACCESS_STATE_PURGED)
    assert [r.email for r in last.contacts] == [world.approver.email, world.viewer.email]
    await world.identity.fails(
        grpc.StatusCode.NOT_FOUND,
        "ChangeCustomerAccess",
        pb.ChangeCustomerAccessRequest(customer_id=gone.id, to=pb.ACCESS_STATE_ACTIVE),
        world.staff(world.pm),
    )
    assert (await world.audit())[0].action == "customer.purged"


async def test_restoring_after_purge_after_is_refused(world: World):
    await world.change_access(pb.ACCESS_STATE_DELETED)
    # Thirty days pass (the job has not run yet).
    await world.identity.sql(
        world.tenant_id,
        "UPDATE customer SET purge_after = now() - interval '1 minute' WHERE id = :c",
        c=world.customer.id,
    )
    err = await world.identity.fails(
        grpc.StatusCode.FAILED_PRECONDITION,
        "ChangeCustomerAccess",
        pb.ChangeCustomerAccessRequest(customer_id=world.customer.id, to=pb.ACCESS_STATE_ACTIVE),
        world.staff(world.pm),
    )
    assert "can no longer be restored" in err.details()
    assert await purge(world) == 1


async def test_what_is_not_allowed_says_what_is(world: World):
    await world.change_access(pb.ACCESS_STATE_DELETED)
    err = await world.identity.fails(
        grpc.StatusCode.FAILED_PRECONDITION,
        "ChangeCustomerAccess",
        pb.ChangeCustomerAccessRequest(customer_id=world.customer.id, to=pb.ACCESS_STATE_ARCHIVED),
        world.staff(world.pm),
    )
    assert "only be restored to active" in err.details()
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "ChangeCustomerAccess",
        pb.ChangeCustomerAccessRequest(customer_id=world.customer.id, to=pb.ACCESS_STATE_PURGED),
        world.staff(world.pm),
    )


async def test_asking_again_for_the_same_state_changes_nothing(world: World):
    first = await world.change_access(pb.ACCESS_STATE_ARCHIVED)
    again = await world.change_access(pb.ACCESS_STATE_ARCHIVED)
    assert again.access_changed_at == first.access_changed_at
    assert len(await access_events(world)) == 1


async def test_only_project_managers_and_up_change_access_and_the_job_purges(world: World):
    request = pb.ChangeCustomerAccessRequest(
        customer_id=world.customer.id, to=pb.ACCESS_STATE_ARCHIVED
    )
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "ChangeCustomerAccess",
        request,
        world.staff(world.technician),
    )
    opened = await world.invite_and_set_password(world.approver)
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "ChangeCustomerAccess",
        request,
        world.person(opened.session),
    )
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "PurgeDeletedCustomers",
        pb.PurgeDeletedCustomersRequest(),
        world.staff(world.owner),
    )

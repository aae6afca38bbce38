import time

import grpc
import pytest
from portal.common.v1 import common_pb2
from portal.projects.v1 import events_pb2

from services.chassis import errors
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier, generate_keypair
from services.chassis.events import Event, build_envelope, consumer_name, parse_envelope, stream_for
from services.chassis.grpc_server import status_for


def test_principal_round_trips_through_a_signed_token(keypair):
    private, public = keypair
    p = Principal(
        kind="client",
        subject="c1",
        tenant_id="t1",
        roles=frozenset({"approver"}),
        customer_id="cust",
    )
    assert PrincipalVerifier(public).verify(PrincipalSigner(private).sign(p)) == p


def test_expired_token_is_refused(keypair):
    private, public = keypair
    token = PrincipalSigner(private, ttl_seconds=60).sign(
        Principal(kind="staff", subject="u"), now=time.time() - 3600
    )
    with pytest.raises(errors.Unauthenticated, match="expired"):
        PrincipalVerifier(public).verify(token)


def test_token_signed_by_another_key_is_refused(keypair):
    other_private, _ = generate_keypair()
    token = PrincipalSigner(other_private).sign(Principal(kind="staff", subject="u"))
    with pytest.raises(errors.Unauthenticated):
        PrincipalVerifier(keypair[1]).verify(token)


def test_staff_role_checks():
    pm = Principal(kind="staff", subject="u", tenant_id="t", roles=frozenset({"project_manager"}))
    pm.require_staff("project_manager")
    with pytest.raises(errors.PermissionDenied):
        pm.require_staff("finance")
    Principal(kind="staff", subject="o", roles=frozenset({"owner"})).require_staff("finance")
    with pytest.raises(errors.PermissionDenied):
        Principal(kind="client", subject="c").require_staff()


def test_envelope_round_trip_and_naming():
    payload = events_pb2.ProjectStageChanged(project_id="p", to_stage=4)
    env = build_envelope(
        tenant_id="t",
        aggregate_type="project",
        aggregate_id="p",
        payload=payload,
    )
    event = Event.from_envelope(
        parse_envelope(env.SerializeToString()), events_pb2.ProjectStageChanged
    )
    assert event.payload == payload and event.tenant_id == "t" and event.id == env.id
    assert env.type == "projects.project.stage_changed"  # the subject its proto declares
    with pytest.raises(ValueError, match="expected"):
        Event.from_envelope(env, common_pb2.Money)
    assert stream_for("projects.project.stage_changed") == "PROJECTS"
    assert consumer_name("notifications", "projects.project.stage_changed") == (
        "notifications--projects-project-stage_changed"
    )


def test_domain_errors_map_to_grpc_status():
    assert status_for(errors.NotFound("x")) == grpc.StatusCode.NOT_FOUND
    assert status_for(errors.InvalidTransition("x")) == grpc.StatusCode.FAILED_PRECONDITION
    assert status_for(errors.InvalidArgument("x")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_for(errors.Conflict("x")) == grpc.StatusCode.ABORTED


def test_lanes_keep_each_keys_order_and_the_order_keys_first_appear_in():
    from services.chassis.consumer import lanes

    batch = ["a1", "b1", "a2", "c1", "b2", "a3"]
    assert lanes(batch, key=lambda s: s[0]) == [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]
    assert lanes(batch, key=id) == [[s] for s in batch]  # every item its own lane
    assert lanes([], key=id) == []


def test_the_start_up_heap_is_frozen_out_of_later_collections():
    import gc

    from services.chassis.runtime import freeze_startup_heap

    gc.unfreeze()
    try:
        freeze_startup_heap()
        # What start-up built is no longer walked by a full collection.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()

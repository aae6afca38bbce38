"""The suite's customer-access rules, once: which portals are open, which are
read-only, which access event wins, and who may read, edit and approve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from portal.identity.v1.identity_pb2 import (
    ACCESS_STATE_ACTIVE,
    ACCESS_STATE_ARCHIVED,
    ACCESS_STATE_DELETED,
    ACCESS_STATE_PURGED,
)

from services.chassis.access import portal_open, portal_writable, supersedes
from services.chassis.auth import Principal
from services.chassis.errors import PermissionDenied

T = "tenant-1"


def client(*roles: str, read_only: bool = False) -> Principal:
    return Principal(
        kind="client",
        subject="contact-1",
        tenant_id=T,
        roles=frozenset(roles),
        customer_id="customer-1",
        read_only=read_only,
    )


def staff(*roles: str, read_only: bool = False) -> Principal:
    return Principal(
        kind="staff", subject="user-1", tenant_id=T, roles=frozenset(roles), read_only=read_only
    )


SERVICE = Principal(kind="service", subject="projects", tenant_id=T)


def test_only_a_deleted_or_purged_customers_portal_is_closed():
    assert portal_open(None)  # identity never changed it: active
    assert portal_open(ACCESS_STATE_ACTIVE)
    assert portal_open(ACCESS_STATE_ARCHIVED)
    assert not portal_open(ACCESS_STATE_DELETED)
    assert not portal_open(ACCESS_STATE_PURGED)


def test_an_archived_portal_is_open_for_reading_only():
    assert portal_writable(None)
    assert portal_writable(ACCESS_STATE_ACTIVE)
    assert not portal_writable(ACCESS_STATE_ARCHIVED)
    assert not portal_writable(ACCESS_STATE_DELETED)
    assert not portal_writable(ACCESS_STATE_PURGED)


def test_the_newest_access_change_wins_and_a_redelivery_changes_nothing():
    t = datetime(2026, 11, 25, tzinfo=UTC)
    assert supersedes(t, None)
    assert supersedes(t + timedelta(microseconds=1), t)
    assert not supersedes(t - timedelta(seconds=1), t)  # late, older
    assert not supersedes(t, t)  # the same event again


def test_readers_are_staff_services_and_client_contacts():
    for who in (staff("technician"), SERVICE, client("viewer"), client("approver", read_only=True)):
        assert who.require_reader() == T
    with pytest.raises(PermissionDenied):
        Principal(kind="platform", subject="ops", tenant_id=T).require_reader()
    with pytest.raises(PermissionDenied, match="tenant"):
        Principal(kind="staff", subject="u").require_reader()


def test_editors_are_staff_with_the_role_on_a_writable_principal():
    assert staff("project_manager").require_editor("project_manager") == T
    assert staff("owner").require_editor("project_manager") == T  # owner and admin always
    assert SERVICE.require_editor("project_manager") == T
    with pytest.raises(PermissionDenied, match="roles"):
        staff("technician").require_editor("project_manager")
    with pytest.raises(PermissionDenied, match="staff"):
        client("approver").require_editor("project_manager")
    with pytest.raises(PermissionDenied, match="read-only"):
        staff("project_manager", read_only=True).require_editor("project_manager")


def test_approvers_are_client_approvers_on_a_writable_principal():
    assert client("approver").require_approver("accept a proposal") == T
    with pytest.raises(PermissionDenied, match="only an approver can accept a proposal"):
        client("viewer").require_approver("accept a proposal")
    with pytest.raises(PermissionDenied, match="read-only"):
        client("approver", read_only=True).require_approver("accept a proposal")
    for who in (staff("owner"), SERVICE):
        with pytest.raises(PermissionDenied, match="customer's approver"):
            who.require_approver("accept a proposal")

"""The gateway's translations between the services' protos and the JSON API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import identity_pb2
from portal.notifications.v1 import notifications_pb2
from portal.projects.v1 import projects_pb2

from gateway.api.emails import EMAIL_STATUS_NAMES, email_out
from gateway.api.projects import STAGE_NAMES, project_out, stage_name, stage_value
from gateway.api.tenant import public_tenant
from gateway.auth import staff_roles
from gateway.deps import request_id


def ts(iso: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(iso))
    return stamp


def test_stage_names_follow_the_proto_enum_in_order() -> None:
    from_proto = [
        n.removeprefix("STAGE_").lower()
        for n, v in sorted(projects_pb2.Stage.items(), key=lambda item: item[1])
        if v != projects_pb2.STAGE_UNSPECIFIED
    ]
    assert list(STAGE_NAMES) == from_proto
    for name in STAGE_NAMES:
        assert stage_name(stage_value(name)) == name
    assert stage_value("commissioning") == projects_pb2.STAGE_COMMISSIONING


def test_email_statuses_follow_the_proto_enum() -> None:
    from_proto = {
        n.removeprefix("EMAIL_STATUS_").lower()
        for n, v in notifications_pb2.EmailStatus.items()
        if v != notifications_pb2.EMAIL_STATUS_UNSPECIFIED
    }
    assert set(EMAIL_STATUS_NAMES) == from_proto


def test_a_project_becomes_json_with_iso_times_and_a_lowercase_stage() -> None:
    project = projects_pb2.Project(
        id=str(uuid.uuid4()),
        reference="PRJ-0001",
        name="Home cinema",
        customer_id=str(uuid.uuid4()),
        site_address="1 High Street",
        stage=projects_pb2.STAGE_INSTALL,
        created_at=ts("2025-03-01T09:30:00+00:00"),
        stage_changed_at=ts("2025-03-02T10:00:00.250000+00:00"),
    )
    body = project_out(project).model_dump(mode="json")
    assert body["stage"] == "install"
    assert body["created_at"] == "2025-03-01T09:30:00Z"
    assert body["stage_changed_at"] == "2025-03-02T10:00:00.250000Z"
    assert body["reference"] == "PRJ-0001"


def test_an_unset_timestamp_becomes_null() -> None:
    project = projects_pb2.Project(
        id="p", stage=projects_pb2.STAGE_DESIGN, created_at=ts("2025-03-01T09:30:00+00:00")
    )
    assert project_out(project).stage_changed_at is None
    email = notifications_pb2.Email(
        id="e",
        status=notifications_pb2.EMAIL_STATUS_PENDING,
        created_at=ts("2025-03-01T09:30:00+00:00"),
    )
    out = email_out(email)
    assert (out.status, out.sent_at) == ("pending", None)
    assert out.created_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_staff_roles_lose_their_prefix_and_case() -> None:
    roles = [
        identity_pb2.STAFF_ROLE_OWNER,
        identity_pb2.STAFF_ROLE_PROJECT_MANAGER,
        identity_pb2.STAFF_ROLE_UNSPECIFIED,
        99,  # a role this gateway does not know yet
    ]
    assert staff_roles(roles) == frozenset({"owner", "project_manager"})


def test_the_public_tenant_shows_unset_branding_as_null() -> None:
    tenant = identity_pb2.Tenant(
        id="t",
        slug="acme",
        display_name="Acme Home Cinema",
        time_zone="America/New_York",
        currency="USD",
        region="us",
        branding=identity_pb2.Branding(headline="Sound, done right", accent_color="#112233"),
    )
    body = public_tenant(tenant).model_dump(mode="json")
    assert "id" not in body and "region" not in body
    assert body["branding"]["headline"] == "Sound, done right"
    assert body["branding"]["logo_url"] is None


async def test_an_idempotency_key_becomes_the_request_id_else_a_fresh_one() -> None:
    assert await request_id("click-1") == "click-1"
    generated = await request_id(None)
    assert uuid.UUID(generated).version == 4
    assert await request_id(None) != generated

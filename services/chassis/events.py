"""Event envelopes: every NATS message is a portal.common.v1.EventEnvelope
holding a typed event from the producer's events.proto.

Subjects come from one registry: each event message declares its subject in
its proto (`option (portal.common.v1.event_subject) = "..."`), and
`subject_for(ProjectStageChanged)` reads it from the generated descriptor.
Publishers and subscribers name the type, so a typo is an import error, not a
consumer that never receives."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from google.protobuf.message import Message
from portal.common.v1 import common_pb2, options_pb2

M = TypeVar("M", bound=Message)

TENANT_HEADER = "Portal-Tenant"
EVENT_TYPE_HEADER = "Portal-Event-Type"


def subject_for(event_type: builtins.type[Message]) -> str:
    """The subject `event_type` is published on, as its proto declares it."""
    subject = event_type.DESCRIPTOR.GetOptions().Extensions[options_pb2.event_subject]
    if not subject:
        raise LookupError(
            f"{event_type.DESCRIPTOR.full_name} declares no event subject: add "
            '`option (portal.common.v1.event_subject) = "<producer>.<entity>.<verb_past>";`'
        )
    return subject


def stream_for(subject: str) -> str:
    """One stream per producer: `projects.project.stage_changed` -> `PROJECTS`."""
    return subject.split(".", 1)[0].upper()


def consumer_name(consumer: str, subject: str) -> str:
    """Durable name: `notifications--projects-project-stage_changed`."""
    return f"{consumer}--{subject.replace('.', '-')}"


def build_envelope(
    *,
    tenant_id: str | None,
    aggregate_type: str,
    aggregate_id: str,
    payload: Message,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> common_pb2.EventEnvelope:
    envelope = common_pb2.EventEnvelope(
        id=event_id or str(uuid.uuid4()),
        type=subject_for(type(payload)),
        tenant_id=tenant_id or "",
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
    )
    envelope.occurred_at.FromDatetime(occurred_at or datetime.now(UTC))
    envelope.payload.Pack(payload)
    return envelope


@dataclass(frozen=True)
class Event(Generic[M]):
    """What a handler receives: the envelope's facts and the typed payload."""

    id: str
    type: str
    tenant_id: str
    occurred_at: datetime
    aggregate_type: str
    aggregate_id: str
    payload: M

    @classmethod
    def from_envelope(
        cls, envelope: common_pb2.EventEnvelope, payload_type: builtins.type[M]
    ) -> Event[M]:
        payload = payload_type()
        if not envelope.payload.Unpack(payload):
            raise ValueError(
                f"event {envelope.id} carries {envelope.payload.TypeName()}, "
                f"expected {payload_type.DESCRIPTOR.full_name}"
            )
        return cls(
            id=envelope.id,
            type=envelope.type,
            tenant_id=envelope.tenant_id,
            occurred_at=envelope.occurred_at.ToDatetime(tzinfo=UTC),
            aggregate_type=envelope.aggregate_type,
            aggregate_id=envelope.aggregate_id,
            payload=payload,
        )


def parse_envelope(data: bytes) -> common_pb2.EventEnvelope:
    envelope = common_pb2.EventEnvelope()
    envelope.ParseFromString(data)
    if not envelope.id or not envelope.type:
        raise ValueError("not an event envelope: id and type are required")
    return envelope

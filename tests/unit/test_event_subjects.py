"""The subject registry: every event message in every events.proto declares
its subject once, and the chassis reads it from the type."""

from __future__ import annotations

import importlib
import re

import pytest
from google.protobuf.message import Message
from portal.common.v1 import common_pb2
from portal.identity.v1.events_pb2 import CustomerPurged
from portal.projects.v1.events_pb2 import ProjectStageChanged

from deploy.protos import PROTOS
from services.chassis.consumer import Subscription
from services.chassis.events import subject_for

SEGMENT = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"


def event_modules() -> list[tuple[str, object]]:
    found = []
    for proto in sorted(PROTOS.glob("portal/*/v1/events.proto")):
        producer = proto.parent.parent.name
        found.append((producer, importlib.import_module(f"portal.{producer}.v1.events_pb2")))
    return found


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def every_event() -> list[tuple[str, type[Message]]]:
    events = []
    for producer, module in event_modules():
        for name in module.DESCRIPTOR.message_types_by_name:  # type: ignore[attr-defined]
            events.append((producer, getattr(module, name)))
    return events


def test_there_are_events_in_every_producers_events_proto():
    assert {producer for producer, _ in event_modules()} >= {"identity", "projects", "documents"}
    assert len(every_event()) >= 10


@pytest.mark.parametrize(
    ("producer", "event"), every_event(), ids=lambda v: getattr(v, "__name__", v)
)
def test_each_event_declares_a_subject_that_follows_the_rule(producer, event):
    subject = subject_for(event)
    # <producer>.<entity>.<verb_past>, the producer being the proto's service ...
    assert re.fullmatch(rf"{producer}\.{SEGMENT}\.{SEGMENT}", subject), subject
    # ... and entity + verb spell the message's name: ProjectStageChanged is
    # project.stage_changed, so a subject cannot drift from its type.
    _, entity, verb = subject.split(".")
    assert f"{entity}_{verb}" == snake(event.__name__), subject


def test_no_two_events_share_a_subject():
    subjects = [subject_for(event) for _, event in every_event()]
    assert len(subjects) == len(set(subjects))


def test_wire_subjects_are_the_ones_streams_and_consumers_already_use():
    assert subject_for(ProjectStageChanged) == "projects.project.stage_changed"
    assert subject_for(CustomerPurged) == "identity.customer.purged"


def test_a_message_that_is_no_event_cannot_be_subscribed_to():
    async def handler(uow, event) -> None:
        raise AssertionError("never called")

    with pytest.raises(LookupError, match="declares no event subject"):
        Subscription(common_pb2.Money, handler)
    assert Subscription(ProjectStageChanged, handler).subject == "projects.project.stage_changed"

"""Event types made up for one test: a subject of its own (so a stream and a
durable consumer of its own), declared the way events.proto declares one."""

from __future__ import annotations

import functools

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from portal.common.v1 import options_pb2


@functools.cache
def event_type(subject: str) -> type[Message]:
    """A message `Thing` (currency, amount_minor) published on `subject`."""
    package = "tests." + subject.replace(".", "_")
    file = descriptor_pb2.FileDescriptorProto(
        name=package.replace(".", "/") + "/events.proto",
        package=package,
        syntax="proto3",
        dependency=["portal/common/v1/options.proto"],
    )
    message = file.message_type.add(name="Thing")
    message.field.add(
        name="currency",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    message.field.add(
        name="amount_minor",
        number=2,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    message.options.Extensions[options_pb2.event_subject] = subject
    pool = descriptor_pool.Default()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Thing"))

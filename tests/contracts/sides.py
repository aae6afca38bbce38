"""One side of a contract (a fake or the real service), the outcome of a call
on it, and the shape of an answer: which fields are set, by path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from services.chassis.auth import Principal
from services.chassis.grpc_client import Caller, error_detail


@dataclass
class Side:
    stub: Any
    caller: Caller

    async def __call__(self, method: str, request: Message, principal: Principal) -> Any:
        return await self.caller(getattr(self.stub, method), request, principal)


@dataclass(frozen=True)
class Refused:
    """A refusal as the gateway reads it: the status and ErrorDetail's code and field."""

    status: grpc.StatusCode
    code: str
    field: str


async def outcome(call: Any) -> Message | Refused:
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        detail = error_detail(exc)
        field = detail.field_violations[0].field if detail.field_violations else ""
        return Refused(exc.code(), detail.code, field)


# Values, not records: set is set (an amount of 0 is still an amount).
LEAVES = frozenset({"portal.common.v1.Money", "google.protobuf.Timestamp"})


def shape(msg: Message, prefix: str = "") -> set[str]:
    """The paths of the fields set in `msg` (a repeated field: over all its items)."""
    paths: set[str] = set()
    for fd, value in msg.ListFields():
        path = prefix + fd.name
        paths.add(path)
        if fd.type != fd.TYPE_MESSAGE or fd.message_type.full_name in LEAVES:
            continue
        items = value if fd.is_repeated else [value]
        for item in items:
            paths |= shape(item, path + ".")
    return paths


def agree(fake: Message | Refused, real: Message | Refused, case: str) -> None:
    """Both refused alike, or both answered and the fake set no field the real
    service does not (the gateway tests must not lean on what never comes)."""
    if isinstance(real, Refused) or isinstance(fake, Refused):
        assert fake == real, (case, fake, real)
        return
    assert shape(fake) <= shape(real), (case, shape(fake) - shape(real))

"""Proto <-> JSON helpers the API modules share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query
from google.protobuf.message import Message
from portal.common.v1 import common_pb2


def timestamp(message: Message, field: str) -> datetime | None:
    """A Timestamp field as an aware UTC datetime; None when unset."""
    if not message.HasField(field):
        return None
    return getattr(message, field).ToDatetime(tzinfo=UTC)


async def page_request(
    page_size: Annotated[
        int | None,
        Query(ge=1, le=100, description="Items per page; the service's default if unset."),
    ] = None,
    page_token: Annotated[
        str, Query(max_length=1024, description="`next_page_token` from the previous page.")
    ] = "",
) -> common_pb2.PageRequest:
    return common_pb2.PageRequest(page_size=page_size or 0, page_token=page_token)


PageDep = Annotated[common_pb2.PageRequest, Depends(page_request)]

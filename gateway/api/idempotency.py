"""The Idempotency-Key header becomes the request id every mutating RPC carries,
so a retried or double-clicked request happens once."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header


async def request_id(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=100,
            description="Send the same key when retrying; the change then happens once.",
        ),
    ] = None,
) -> str:
    return idempotency_key or str(uuid.uuid4())


RequestIdDep = Annotated[str, Depends(request_id)]

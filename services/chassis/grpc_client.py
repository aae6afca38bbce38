"""Calling another service: a traced channel, the caller's principal in the
metadata, and a deadline on every call."""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from portal.common.v1 import common_pb2

from services.chassis import errors
from services.chassis.auth import Principal, PrincipalSigner

DEFAULT_TIMEOUT = 5.0
ERROR_DETAIL_KEY = "portal-error-bin"


def open_channel(target: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        interceptors=aio_client_interceptors(),
        options=[("grpc.keepalive_time_ms", 30000)],
    )


class Caller:
    """Signs the principal once per call and attaches it with a deadline."""

    def __init__(self, signer: PrincipalSigner, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._signer = signer
        self._timeout = timeout

    async def __call__(
        self, method: Any, request: Any, principal: Principal, *, timeout: float | None = None
    ) -> Any:
        metadata = (("authorization", f"Bearer {self._signer.sign(principal)}"),)
        return await method(request, metadata=metadata, timeout=timeout or self._timeout)


_ERROR_FOR_STATUS: dict[grpc.StatusCode, type[errors.DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.InvalidTransition,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.ABORTED: errors.Conflict,
}
# RESOURCE_EXHAUSTED carries retry_after_seconds in the ErrorDetail.


def error_detail(exc: grpc.aio.AioRpcError) -> common_pb2.ErrorDetail:
    """The ErrorDetail a service attached, or one built from the status."""
    for key, value in exc.trailing_metadata() or ():
        if key == ERROR_DETAIL_KEY:
            detail = common_pb2.ErrorDetail()
            detail.ParseFromString(value)
            return detail
    return common_pb2.ErrorDetail(
        code=exc.code().name.lower(), message=exc.details() or exc.code().name
    )


def as_domain_error(exc: grpc.aio.AioRpcError) -> errors.DomainError | None:
    """Re-raise a remote domain error locally, or None for transport failures."""
    cls = _ERROR_FOR_STATUS.get(exc.code())
    if cls is None:
        return None
    detail = error_detail(exc)
    field = detail.field_violations[0].field if detail.field_violations else None
    return cls(detail.message, field=field)

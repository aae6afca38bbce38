"""Calling another service: the caller's principal and the trace context in
the metadata, a client span where the trace is sampled (rpc_spans.py; the
channel has no interceptors), and a deadline on every call, whatever its kind
(unary, server-streaming, client-streaming)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Iterator
from typing import Any

import grpc
from portal.common.v1 import common_pb2

from services.chassis import errors
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.rpc_spans import client_span, method_name

DEFAULT_TIMEOUT = 5.0
# Streams move files: long enough for a large one, within what servers allow
# for the methods that declare a longer ceiling.
DEFAULT_STREAM_TIMEOUT = 600.0
ERROR_DETAIL_KEY = "portal-error-bin"

Metadata = tuple[tuple[str, str], ...]


def open_channel(target: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        options=[("grpc.keepalive_time_ms", 30000)],
    )


class Caller:
    """Signs the principal for each call and attaches it with a deadline.

    `await caller(stub.GetX, request, principal)` for unary calls,
    `await caller.upload(stub.Upload, requests, principal)` for client streams
    (requests sent as they are produced), `caller.stream(stub.Read, request,
    principal)` for server streams (an async iterator; leaving it early
    cancels the call). Refusals are raised as grpc.aio.AioRpcError, or, with
    `domain_errors=True`, as the DomainError the service raised (its code
    kept); transport failures stay AioRpcError either way."""

    def __init__(
        self,
        signer: PrincipalSigner,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        domain_errors: bool = False,
    ) -> None:
        self._signer = signer
        self._timeout = timeout
        self._stream_timeout = stream_timeout
        self._domain_errors = domain_errors

    def metadata(self, principal: Principal) -> Metadata:
        return (("authorization", f"Bearer {self._signer.sign(principal)}"),)

    @contextlib.contextmanager
    def _mapped(self) -> Iterator[None]:
        try:
            yield
        except grpc.aio.AioRpcError as exc:
            domain = as_domain_error(exc) if self._domain_errors else None
            if domain is None:
                raise
            raise domain from exc

    async def __call__(
        self,
        method: Callable[..., Awaitable[Any]],
        request: Any,
        principal: Principal,
        *,
        timeout: float | None = None,
    ) -> Any:
        with self._mapped(), client_span(method_name(method)) as traced:
            return await method(
                request,
                metadata=(*self.metadata(principal), *traced),
                timeout=timeout or self._timeout,
            )

    async def upload(
        self,
        method: Callable[..., Awaitable[Any]],
        requests: AsyncIterable[Any] | Iterable[Any],
        principal: Principal,
        *,
        timeout: float | None = None,
    ) -> Any:
        """A client-streaming call; its one answer."""
        with self._mapped(), client_span(method_name(method)) as traced:
            return await method(
                requests,
                metadata=(*self.metadata(principal), *traced),
                timeout=timeout or self._stream_timeout,
            )

    async def stream(
        self,
        method: Callable[..., Any],
        request: Any,
        principal: Principal,
        *,
        timeout: float | None = None,
    ) -> AsyncGenerator[Any, None]:
        """A server-streaming call: its answers as they arrive."""
        # Mapped outside the span, as for the other kinds: the span then sees
        # the status (its code), not the DomainError made of it.
        with self._mapped(), client_span(method_name(method)) as traced:
            call = method(
                request,
                metadata=(*self.metadata(principal), *traced),
                timeout=timeout or self._stream_timeout,
            )
            try:
                while True:
                    message = await call.read()
                    if message is grpc.aio.EOF:
                        return
                    yield message
            finally:
                call.cancel()  # a no-op once finished; stops the service if the reader left


_ERROR_FOR_STATUS: dict[grpc.StatusCode, type[errors.DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.InvalidTransition,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.ABORTED: errors.Conflict,
}


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
    """A remote domain error as a local one (the service's stable code kept),
    or None for transport failures."""
    detail = error_detail(exc)
    field = detail.field_violations[0].field if detail.field_violations else None
    error: errors.DomainError
    if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
        error = errors.RateLimited(
            detail.message, retry_after=detail.retry_after_seconds, field=field
        )
    else:
        cls = _ERROR_FOR_STATUS.get(exc.code())
        if cls is None:
            return None
        error = cls(detail.message, field=field)
    if detail.code:
        error.code = detail.code
    return error

"""gRPC server bootstrap: grpc.aio with standard health checking and
reflection, and one interceptor that traces (rpc_spans.py), authenticates the
caller's principal, enforces deadlines and maps domain errors to status codes,
for every call kind (unary, server-streaming, client-streaming, bidirectional)."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from portal.common.v1 import common_pb2

from services.chassis import errors
from services.chassis.auth import (
    Principal,
    PrincipalVerifier,
    reset_current_principal,
    set_current_principal,
)
from services.chassis.db_faults import database_unavailable
from services.chassis.rpc_spans import Span, record_status, server_span
from services.chassis.telemetry import get_logger

log = get_logger(__name__)

ERROR_DETAIL_KEY = "portal-error-bin"
# The longest deadline a call may carry unless its service declares more for
# that method (uploads and downloads of large files do).
DEFAULT_DEADLINE_CEILING = 60.0
# Infrastructure services answer without a principal.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

STATUS_FOR: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.OutOfRange: grpc.StatusCode.OUT_OF_RANGE,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.InvalidTransition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.Conflict: grpc.StatusCode.ABORTED,
    errors.RateLimited: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}

Handler = Callable[[Any, grpc.aio.ServicerContext], Any]


def status_for(exc: errors.DomainError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in STATUS_FOR:
            return STATUS_FOR[cls]
    return grpc.StatusCode.FAILED_PRECONDITION


def error_detail_of(exc: errors.DomainError) -> common_pb2.ErrorDetail:
    detail = common_pb2.ErrorDetail(
        code=exc.code, message=exc.message, retry_after_seconds=getattr(exc, "retry_after", 0)
    )
    if exc.field:
        detail.field_violations.add(field=exc.field, description=exc.message)
    return detail


def nul_field(message: Message, prefix: str = "") -> str | None:
    """The path of the first string field holding a NUL character, or None.
    PostgreSQL cannot store one, so no request may carry one into a use case,
    whichever field it is in (the domain's own checks cover the rest)."""
    for fd, value in message.ListFields():
        path = prefix + fd.name
        if fd.type == FieldDescriptor.TYPE_STRING:
            items = value if fd.is_repeated else (value,)
            for i, item in enumerate(items):
                if "\x00" in item:
                    return f"{path}[{i}]" if fd.is_repeated else path
        elif fd.type == FieldDescriptor.TYPE_MESSAGE:  # (no proto of ours has a map)
            items = value if fd.is_repeated else (value,)
            for i, item in enumerate(items):
                inner = f"{path}[{i}]." if fd.is_repeated else f"{path}."
                if found := nul_field(item, inner):
                    return found
    return None


def refuse_nul(message: Any) -> None:
    if isinstance(message, Message) and (field := nul_field(message)):
        raise errors.InvalidArgument(
            f"{field} cannot contain a NUL character (U+0000); remove it and try again",
            field=field,
        )


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for message in requests:
        refuse_nul(message)
        yield message


def _bearer(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value.removeprefix("Bearer ")
    return None


class _Guard:
    """What every call of one method goes through: admission (deadline within
    the method's ceiling, a verified principal), then the handler with the
    principal in the context, its domain errors sent as status + ErrorDetail."""

    def __init__(self, verifier: PrincipalVerifier, method: str, ceiling: float) -> None:
        self._verifier = verifier
        self._method = method
        self._ceiling = ceiling

    async def _admit(self, context: grpc.aio.ServicerContext, span: Span | None) -> Principal:
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            await _abort(
                context, span, grpc.StatusCode.DEADLINE_EXCEEDED, "deadline already passed"
            )
        if remaining is None or remaining > self._ceiling:
            # A caller without a deadline could hold resources forever.
            await _abort(
                context,
                span,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"this call needs a deadline of at most {self._ceiling:.0f}s",
            )
        token = _bearer(context.invocation_metadata())
        if token is None:
            await _abort(context, span, grpc.StatusCode.UNAUTHENTICATED, "no principal token")
        assert token is not None  # abort raises
        try:
            return self._verifier.verify(token)
        except errors.Unauthenticated as exc:
            await _abort(context, span, grpc.StatusCode.UNAUTHENTICATED, exc.message)
            raise  # abort raises; this keeps the type checker informed

    async def _refuse(
        self, context: grpc.aio.ServicerContext, exc: Exception, span: Span | None
    ) -> None:
        if isinstance(exc, errors.DomainError):
            context.set_trailing_metadata(
                ((ERROR_DETAIL_KEY, error_detail_of(exc).SerializeToString()), *exc.trailers)
            )
            record_status(span, status_for(exc), exc.message)
            await context.abort(status_for(exc), exc.message)
        if database_unavailable(exc):  # worth trying again (db_faults.py says why)
            log.warning("database unavailable", method=self._method, error=repr(exc))
            record_status(span, grpc.StatusCode.UNAVAILABLE, "database unavailable")
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the database is unavailable; try again shortly"
            )
        log.exception("unhandled error in rpc", method=self._method)
        record_status(span, grpc.StatusCode.INTERNAL, "internal error")
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")

    def unary_response(self, inner: Handler) -> Callable[..., Awaitable[Any]]:
        """Unary-unary and stream-unary: one answer, awaited."""

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with server_span(self._method, context.invocation_metadata()) as span:
                principal = await self._admit(context, span)
                reset = set_current_principal(principal)
                try:
                    if hasattr(request, "__aiter__"):  # a client stream: each as it comes
                        request = _checked(request)
                    else:
                        refuse_nul(request)
                    return await inner(request, context)
                except grpc.aio.AbortError:
                    _record_abort(span, context)
                    raise
                except Exception as exc:
                    await self._refuse(context, exc, span)
                finally:
                    reset_current_principal(reset)

        return guarded

    def stream_response(self, inner: Handler) -> Callable[..., AsyncIterator[Any]]:
        """Unary-stream and stream-stream: errors raised before the first
        message or between two are mapped the same way."""

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with server_span(self._method, context.invocation_metadata()) as span:
                principal = await self._admit(context, span)
                reset = set_current_principal(principal)
                try:
                    if hasattr(request, "__aiter__"):
                        request = _checked(request)
                    else:
                        refuse_nul(request)
                    produced = inner(request, context)
                    if inspect.isasyncgen(produced):
                        async for message in produced:
                            yield message
                    else:  # a handler that writes with context.write()
                        await produced
                except grpc.aio.AbortError:
                    _record_abort(span, context)
                    raise
                except Exception as exc:
                    await self._refuse(context, exc, span)
                finally:
                    # A generator closed from another context (a cancelled call)
                    # cannot reset; its task's context ends with it anyway.
                    with contextlib.suppress(ValueError):
                        reset_current_principal(reset)

        return guarded


async def _abort(
    context: grpc.aio.ServicerContext, span: Span | None, code: grpc.StatusCode, message: str
) -> None:
    """A refusal before the handler, its status on the span too (the span
    would otherwise carry OK's code beside its error)."""
    record_status(span, code, message)
    await context.abort(code, message)


def _record_abort(span: Span | None, context: grpc.aio.ServicerContext) -> None:
    """The handler's own `context.abort`: its code on the span."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        record_status(span, code, str(context.details() or code.name))


class PortalServerInterceptor(grpc.aio.ServerInterceptor):
    """Principal, deadline and error mapping around every handler of every kind.

    `deadline_ceilings` names methods (`/portal.documents.v1.DocumentsService/
    UploadDocument`) that may carry a longer deadline than `default_ceiling`."""

    def __init__(
        self,
        verifier: PrincipalVerifier,
        *,
        deadline_ceilings: Mapping[str, float] | None = None,
        default_ceiling: float = DEFAULT_DEADLINE_CEILING,
    ) -> None:
        self._verifier = verifier
        self._ceilings = dict(deadline_ceilings or {})
        self._default = default_ceiling
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}
        for method in self._ceilings:
            if not method.startswith("/") or method.count("/") != 2:
                raise ValueError(f"name methods in full, /package.Service/Method: {method!r}")

    def ceiling_for(self, method: str) -> float:
        return self._ceilings.get(method, self._default)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_SERVICES):
            return handler
        # The servicer hands back the same handler object for a method on every
        # call: wrap it once, not per call.
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        guard = _Guard(self._verifier, method, self.ceiling_for(method))
        codec = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                guard.unary_response(handler.unary_unary), **codec
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                guard.unary_response(handler.stream_unary), **codec
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                guard.stream_response(handler.unary_stream), **codec
            )
        return grpc.stream_stream_rpc_method_handler(
            guard.stream_response(handler.stream_stream), **codec
        )


async def start_grpc_server(
    *,
    host: str,
    port: int,
    verifier: PrincipalVerifier,
    register: Callable[[grpc.aio.Server], None],
    service_names: Iterable[str],
    deadline_ceilings: Mapping[str, float] | None = None,
) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    """Start serving; returns the server, the bound port and the health servicer.

    Every call needs a deadline of at most 60 s, except the methods named in
    `deadline_ceilings` (full method name -> seconds)."""
    server = grpc.aio.server(
        # One interceptor: the guard also starts the call's server span
        # (rpc_spans.py), in place of OpenTelemetry's gRPC instrumentation.
        interceptors=[PortalServerInterceptor(verifier, deadline_ceilings=deadline_ceilings)],
        options=[("grpc.so_reuseport", 0)],
    )
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = list(service_names)
    reflection.enable_server_reflection(
        [*names, reflection.SERVICE_NAME, health.SERVICE_NAME], server
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise RuntimeError(f"cannot bind gRPC server to {host}:{port}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, bound, health_servicer

"""gRPC server bootstrap: grpc.aio with standard health checking and
reflection, and interceptors that trace, authenticate the caller's principal,
enforce deadlines and map domain errors to status codes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from portal.common.v1 import common_pb2

from services.chassis import errors
from services.chassis.auth import (
    PrincipalVerifier,
    reset_current_principal,
    set_current_principal,
)
from services.chassis.telemetry import get_logger

log = get_logger(__name__)

ERROR_DETAIL_KEY = "portal-error-bin"
DEFAULT_DEADLINE_SECONDS = 10.0
MAX_DEADLINE_SECONDS = 60.0
# Infrastructure services answer without a principal.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

STATUS_FOR: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.InvalidTransition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.Conflict: grpc.StatusCode.ABORTED,
    errors.RateLimited: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def status_for(exc: errors.DomainError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in STATUS_FOR:
            return STATUS_FOR[cls]
    return grpc.StatusCode.FAILED_PRECONDITION


def _bearer(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value.removeprefix("Bearer ")
    return None


class PortalServerInterceptor(grpc.aio.ServerInterceptor):
    """Principal, deadline and error mapping around every unary handler."""

    def __init__(self, verifier: PrincipalVerifier) -> None:
        self._verifier = verifier

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(OPEN_SERVICES):
            return handler
        if handler.unary_unary is None:
            return handler  # the portal's contracts are unary; streams pass through
        inner = handler.unary_unary
        verifier = self._verifier
        method = handler_call_details.method

        async def wrapped(request, context: grpc.aio.ServicerContext):
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline already passed")
            if remaining is None or remaining > MAX_DEADLINE_SECONDS:
                # A caller without a deadline could hold resources forever.
                await context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"every call needs a deadline of at most {MAX_DEADLINE_SECONDS:.0f}s",
                )
            token = _bearer(context.invocation_metadata())
            if token is None:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, "no principal token")
            try:
                principal = verifier.verify(token)
            except errors.Unauthenticated as exc:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, exc.message)
            reset = set_current_principal(principal)
            try:
                return await inner(request, context)
            except errors.DomainError as exc:
                detail = common_pb2.ErrorDetail(
                    code=exc.code,
                    message=exc.message,
                    retry_after_seconds=getattr(exc, "retry_after", 0),
                )
                if exc.field:
                    detail.field_violations.add(field=exc.field, description=exc.message)
                context.set_trailing_metadata(((ERROR_DETAIL_KEY, detail.SerializeToString()),))
                await context.abort(status_for(exc), exc.message)
            except grpc.aio.AbortError:
                raise
            except Exception:
                log.exception("unhandled error in rpc", method=method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                reset_current_principal(reset)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


async def start_grpc_server(
    *,
    host: str,
    port: int,
    verifier: PrincipalVerifier,
    register: Callable[[grpc.aio.Server], None],
    service_names: Iterable[str],
) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    """Start serving; returns the server, the bound port and the health servicer."""
    server = grpc.aio.server(
        interceptors=[aio_server_interceptor(), PortalServerInterceptor(verifier)],
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

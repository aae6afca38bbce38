"""The services the gateway calls: one channel each, opened for the app's lifetime.

A failed call is raised as RemoteError carrying the service's name, so the
problem a person sees can say which service let them down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import grpc
from fastapi import Request
from portal.bookings.v1 import bookings_pb2_grpc
from portal.changeorders.v1 import changeorders_pb2_grpc
from portal.documents.v1 import documents_pb2_grpc
from portal.identity.v1 import identity_pb2_grpc
from portal.notifications.v1 import notifications_pb2_grpc
from portal.payments.v1 import payments_pb2_grpc
from portal.projects.v1 import projects_pb2_grpc

from gateway.brand_cache import BrandImages
from gateway.settings import GatewaySettings
from gateway.stripe_deliveries import StripeDeliveries
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.telemetry import get_logger

log = get_logger(__name__)

StubT = TypeVar("StubT")
ResponseT = TypeVar("ResponseT")


def gateway_principal(*, tenant_id: str | None = None) -> Principal:
    """The gateway calling as itself, before it knows who the person is."""
    return Principal(kind="service", subject="gateway", tenant_id=tenant_id)


class RemoteError(Exception):
    def __init__(self, *, service: str, error: grpc.aio.AioRpcError) -> None:
        super().__init__(f"{service}: {error.code().name}")
        self.service = service
        self.error = error

    @property
    def code(self) -> grpc.StatusCode:
        return self.error.code()


@dataclass(frozen=True)
class Remote(Generic[StubT]):
    """One service: its stub and the chassis Caller, which signs the principal
    and sets the deadline for unary and streaming calls alike."""

    name: str
    stub: StubT
    caller: Caller

    async def call(
        self,
        method: Callable[..., Awaitable[ResponseT]],
        request: Any,
        *,
        principal: Principal,
    ) -> ResponseT:
        """`await projects.call(projects.stub.GetProject, request, principal=staff)`."""
        try:
            return await self.caller(method, request, principal)
        except grpc.aio.AioRpcError as exc:
            raise RemoteError(service=self.name, error=exc) from exc

    async def upload(
        self,
        method: Callable[..., Awaitable[ResponseT]],
        chunks: AsyncIterator[Any],
        *,
        principal: Principal,
        abort: Any = None,
    ) -> ResponseT:
        """A client-streaming call: `chunks` is sent as it is produced.

        If producing them fails (the body passed its limit, the form is
        malformed, the client left), that failure is raised here as itself,
        never as the call's outcome. With `abort`, a message the service must
        refuse, the stream then ends with it: the service refuses the stream
        and keeps nothing. (Cancelling instead is not safe: a gRPC server
        reads a cancelled client stream's end like a finished one, so a
        service could store the part it got before it hears of the
        cancellation.) Without `abort`, the call is cancelled."""
        failed: list[Exception] = []

        async def watched() -> AsyncIterator[Any]:
            try:
                async for chunk in chunks:
                    yield chunk
            except Exception as exc:
                failed.append(exc)
                if abort is None:
                    raise
                yield abort

        try:
            answer = await self.caller.upload(method, watched(), principal)
        except grpc.aio.AioRpcError as exc:
            if failed:
                raise failed[0] from None
            raise RemoteError(service=self.name, error=exc) from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if failed and task is not None and not task.cancelling():
                raise failed[0] from None  # the call was cancelled, not this task
            raise
        if failed:  # the service took what it should have refused
            log.error("an aborted upload was accepted", backend=self.name)
            raise failed[0]
        return answer

    async def open_stream(
        self, method: Callable[..., Any], request: Any, *, principal: Principal
    ) -> tuple[Any, AsyncIterator[Any]]:
        """A server-streaming call, its first message already read (so a refusal
        is raised here, before any response is sent): (first or None, the rest).
        The rest raises RemoteError too; closing it cancels the call."""
        stream = self.caller.stream(method, request, principal)
        try:
            first = await anext(stream, None)
        except grpc.aio.AioRpcError as exc:
            raise RemoteError(service=self.name, error=exc) from exc
        return first, self._rest(stream)

    async def _rest(self, stream: AsyncGenerator[Any, None]) -> AsyncIterator[Any]:
        try:
            async for message in stream:
                yield message
        except grpc.aio.AioRpcError as exc:
            raise RemoteError(service=self.name, error=exc) from exc
        finally:
            await stream.aclose()


DocumentsRemote = Remote[documents_pb2_grpc.DocumentsServiceStub]
PaymentsRemote = Remote[payments_pb2_grpc.PaymentsServiceStub]
BookingsRemote = Remote[bookings_pb2_grpc.BookingsServiceStub]
ChangeOrdersRemote = Remote[changeorders_pb2_grpc.ChangeOrdersServiceStub]


@dataclass(frozen=True)
class Backends:
    identity: Remote[identity_pb2_grpc.IdentityServiceStub]
    projects: Remote[projects_pb2_grpc.ProjectsServiceStub]
    notifications: Remote[notifications_pb2_grpc.NotificationsServiceStub]
    # None when GATEWAY_DOCUMENTS_TARGET is not set: document routes answer 503.
    documents: DocumentsRemote | None = None
    # None when GATEWAY_PAYMENTS_TARGET is not set: invoice routes answer 503.
    payments: PaymentsRemote | None = None
    # None when GATEWAY_BOOKINGS_TARGET is not set: booking routes answer 503.
    bookings: BookingsRemote | None = None
    # None when GATEWAY_CHANGEORDERS_TARGET is not set: change-order routes answer 503.
    changeorders: ChangeOrdersRemote | None = None
    # Identity's answers for uploaded brand images (immutable, by content).
    brand_images: BrandImages = field(default_factory=BrandImages)
    # Stripe's webhook deliveries to payments, several per call (with payments).
    stripe_deliveries: StripeDeliveries | None = None


@contextlib.asynccontextmanager
async def open_backends(settings: GatewaySettings) -> AsyncIterator[Backends]:
    caller = Caller(
        PrincipalSigner(settings.principal_private_key),
        timeout=settings.rpc_timeout_seconds,
        stream_timeout=settings.stream_timeout_seconds,
    )
    async with contextlib.AsyncExitStack() as stack:
        # Channels connect lazily: the gateway starts even if a service is still starting.
        identity = await stack.enter_async_context(open_channel(settings.identity_target))
        projects = await stack.enter_async_context(open_channel(settings.projects_target))
        notifications = await stack.enter_async_context(open_channel(settings.notifications_target))
        documents = None
        if settings.documents_target:
            channel = await stack.enter_async_context(open_channel(settings.documents_target))
            documents = Remote(
                "documents", documents_pb2_grpc.DocumentsServiceStub(channel), caller
            )
        payments = None
        if settings.payments_target:
            channel = await stack.enter_async_context(open_channel(settings.payments_target))
            payments = Remote("payments", payments_pb2_grpc.PaymentsServiceStub(channel), caller)
        bookings = None
        if settings.bookings_target:
            channel = await stack.enter_async_context(open_channel(settings.bookings_target))
            bookings = Remote("bookings", bookings_pb2_grpc.BookingsServiceStub(channel), caller)
        changeorders = None
        if settings.changeorders_target:
            channel = await stack.enter_async_context(open_channel(settings.changeorders_target))
            changeorders = Remote(
                "changeorders", changeorders_pb2_grpc.ChangeOrdersServiceStub(channel), caller
            )
        yield Backends(
            identity=Remote("identity", identity_pb2_grpc.IdentityServiceStub(identity), caller),
            projects=Remote("projects", projects_pb2_grpc.ProjectsServiceStub(projects), caller),
            notifications=Remote(
                "notifications",
                notifications_pb2_grpc.NotificationsServiceStub(notifications),
                caller,
            ),
            documents=documents,
            payments=payments,
            bookings=bookings,
            changeorders=changeorders,
            stripe_deliveries=StripeDeliveries(payments, gateway_principal()) if payments else None,
        )


async def current_backends(request: Request) -> Backends:
    return request.state.backends

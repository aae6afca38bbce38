"""The chassis's own gRPC spans (services/chassis/rpc_spans.py), through a
real server and Caller: a sampled trace gets a CLIENT and a SERVER span named
after the method, parent and child; an unsampled one starts no span and the
handler still runs in the caller's trace (its logs and calls carry its id)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from portal.documents.v1 import documents_pb2 as pb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis import errors, rpc_spans
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.grpc_service import serve_fake, service_name

DOCS = "/" + service_name(pb, "DocumentsService")
STAFF = Principal(kind="staff", subject="u-1", tenant_id="t-1", roles=frozenset({"owner"}))


class Blobs(documents_pb2_grpc.DocumentsServiceServicer):
    def __init__(self) -> None:
        self.trace_ids: list[int] = []

    async def ReadBlob(self, request, context):
        self.trace_ids.append(trace.get_current_span().get_span_context().trace_id)
        if request.token == "gone":
            raise errors.NotFound("no such blob", field="token")
        if request.token == "lost":
            await context.abort(grpc.StatusCode.DATA_LOSS, "the stored file cannot be read")
        yield pb.ReadBlobChunk(data=b"x")


@pytest.fixture
def exported(monkeypatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(rpc_spans, "_TRACER", provider.get_tracer("test"))
    return exporter


@pytest.fixture
async def served(keypair) -> AsyncIterator[tuple[Blobs, documents_pb2_grpc.DocumentsServiceStub]]:
    blobs = Blobs()

    def register(server: grpc.aio.Server) -> None:
        documents_pb2_grpc.add_DocumentsServiceServicer_to_server(blobs, server)

    async with (
        serve_fake(register, DOCS[1:], keypair[1]) as target,
        open_channel(target) as channel,
    ):
        yield blobs, documents_pb2_grpc.DocumentsServiceStub(channel)


async def read(caller: Caller, stub, token: str) -> list[bytes]:
    return [
        c.data async for c in caller.stream(stub.ReadBlob, pb.ReadBlobRequest(token=token), STAFF)
    ]


async def test_a_sampled_call_has_a_client_and_a_server_span(served, keypair, exported) -> None:
    blobs, stub = served
    caller = Caller(PrincipalSigner(keypair[0]), stream_timeout=30)
    with rpc_spans._TRACER.start_as_current_span("request") as root:
        assert await read(caller, stub, "a") == [b"x"]
    spans = {s.kind: s for s in exported.get_finished_spans()}
    client, server = spans[SpanKind.CLIENT], spans[SpanKind.SERVER]
    assert client.name == server.name == f"{DOCS}/ReadBlob"
    assert server.attributes["rpc.method"] == "ReadBlob"
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert client.parent is not None and client.parent.span_id == root.get_span_context().span_id
    assert blobs.trace_ids == [root.get_span_context().trace_id]


async def test_a_refusal_marks_both_spans_as_errors(served, keypair, exported) -> None:
    _, stub = served
    caller = Caller(PrincipalSigner(keypair[0]), stream_timeout=30)
    with rpc_spans._TRACER.start_as_current_span("request"), pytest.raises(grpc.aio.AioRpcError):
        await read(caller, stub, "gone")
    spans = {s.kind: s for s in exported.get_finished_spans()}
    for kind in (SpanKind.CLIENT, SpanKind.SERVER):
        assert not spans[kind].status.is_ok, kind
    code = grpc.StatusCode.NOT_FOUND.value[0]
    assert spans[SpanKind.SERVER].attributes["rpc.grpc.status_code"] == code


async def test_an_unsampled_call_starts_no_span_and_keeps_the_trace(
    served, keypair, exported
) -> None:
    blobs, stub = served
    caller = Caller(PrincipalSigner(keypair[0]), stream_timeout=30)
    unsampled = SpanContext(
        trace_id=0x1234, span_id=0x99, is_remote=False, trace_flags=TraceFlags(0)
    )
    with trace.use_span(NonRecordingSpan(unsampled)):
        assert await read(caller, stub, "a") == [b"x"]
    assert exported.get_finished_spans() == ()
    assert blobs.trace_ids == [0x1234]


TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize(
    ("carrier", "valid"),
    [
        ({"traceparent": f"00-{TRACE}-b7ad6b7169203331-00"}, True),
        ({"traceparent": f"00-{TRACE}-b7ad6b7169203331-01"}, True),
        ({"traceparent": f"00-{'0' * 32}-b7ad6b7169203331-01"}, False),  # invalid trace id
        ({"traceparent": f"00-{TRACE}-{'0' * 16}-01"}, False),  # invalid span id
        ({"traceparent": f"00-{TRACE.upper()}-b7ad6b7169203331-01"}, False),  # not lowercase
        ({"traceparent": f"00-{TRACE}-b7ad6b7169203331-01", "tracestate": "vendor=x"}, True),
        ({"traceparent": f"01-{TRACE}-b7ad6b7169203331-01-later"}, True),  # a future version
        ({}, False),
    ],
)
def test_the_quick_extract_reads_a_carrier_as_opentelemetry_does(carrier, valid) -> None:
    ours = trace.get_current_span(rpc_spans._extract(carrier)).get_span_context()
    theirs = trace.get_current_span(propagate.extract(carrier)).get_span_context()
    assert (ours, ours.is_remote, ours.trace_state) == (
        theirs,
        theirs.is_remote,
        theirs.trace_state,
    )
    assert ours.is_valid is valid


async def test_a_call_refused_before_its_handler_has_its_code_on_the_server_span(
    served, exported
) -> None:
    _, stub = served
    sampled = SpanContext(trace_id=0x77, span_id=0x88, is_remote=False, trace_flags=TraceFlags(1))
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(NonRecordingSpan(sampled)))
    call = stub.ReadBlob(pb.ReadBlobRequest(token="a"), metadata=tuple(carrier.items()), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # no principal token
        await call.read()
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    (server,) = exported.get_finished_spans()
    assert server.kind == SpanKind.SERVER and not server.status.is_ok
    code = grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert server.attributes["rpc.grpc.status_code"] == code


async def test_a_stream_refused_as_a_domain_error_has_its_code_on_the_client_span(
    served, keypair, exported
) -> None:
    _, stub = served
    caller = Caller(PrincipalSigner(keypair[0]), stream_timeout=30, domain_errors=True)
    with rpc_spans._TRACER.start_as_current_span("request"), pytest.raises(errors.NotFound):
        await read(caller, stub, "gone")
    client = next(s for s in exported.get_finished_spans() if s.kind == SpanKind.CLIENT)
    assert not client.status.is_ok
    assert client.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]


async def test_a_handlers_own_abort_has_its_code_on_the_server_span(
    served, keypair, exported
) -> None:
    _, stub = served
    caller = Caller(PrincipalSigner(keypair[0]), stream_timeout=30)
    with rpc_spans._TRACER.start_as_current_span("request"), pytest.raises(grpc.aio.AioRpcError):
        await read(caller, stub, "lost")
    server = next(s for s in exported.get_finished_spans() if s.kind == SpanKind.SERVER)
    assert not server.status.is_ok
    assert server.attributes["rpc.grpc.status_code"] == grpc.StatusCode.DATA_LOSS.value[0]


@pytest.mark.parametrize(
    ("flags", "state", "entries"),
    [(0, None, {}), (1, None, {}), (0, "vendor=x", {}), (0, None, {"tenant": "acme"})],
)
def test_the_quick_inject_writes_what_opentelemetry_writes(flags, state, entries) -> None:
    from opentelemetry import baggage, context
    from opentelemetry.trace import TraceState

    span_context = SpanContext(
        trace_id=int(TRACE, 16),
        span_id=0xB7AD6B7169203331,
        is_remote=False,
        trace_flags=TraceFlags(flags),
        trace_state=TraceState([tuple(state.split("="))]) if state else None,
    )
    ctx = trace.set_span_in_context(NonRecordingSpan(span_context))
    for key, value in entries.items():
        ctx = baggage.set_baggage(key, value, ctx)
    token = context.attach(ctx)
    try:
        ours = rpc_spans._unsampled_metadata(span_context)
        theirs: dict[str, str] = {}
        propagate.inject(theirs)
    finally:
        context.detach(token)
    assert dict(ours) == theirs and "traceparent" in theirs

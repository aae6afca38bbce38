"""The chassis' gRPC server and Caller for every call kind, against a real
server on a free port: principal, deadline ceilings and error mapping hold
for streams as for unary calls, and Caller streams both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from portal.documents.v1 import documents_pb2 as pb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis import errors
from services.chassis.auth import Principal, PrincipalSigner, current_principal
from services.chassis.grpc_client import Caller, error_detail, open_channel
from tests.grpc_service import serve_fake, service_name

DOCS = "/" + service_name(pb, "DocumentsService")
CHAT = "/portal.test.Echo/Chat"  # a bidirectional stream; no contract has one yet
Stub = documents_pb2_grpc.DocumentsServiceStub
STAFF = Principal(kind="staff", subject="u-1", tenant_id="t-1", roles=frozenset({"owner"}))


class BlobGone(errors.InvalidTransition):
    code = "blob_gone"


@dataclass
class Streams(documents_pb2_grpc.DocumentsServiceServicer):
    """Answers from memory; records who called."""

    seen: list[Principal] = field(default_factory=list)
    fail_after: int | None = None

    async def UploadDocument(self, request_iterator, context):
        self.seen.append(current_principal())
        received = bytearray()
        async for chunk in request_iterator:
            received += chunk.data
        return pb.UploadDocumentResponse(
            document=pb.Document(title=received.decode(), current=pb.DocumentVersion())
        )

    async def UploadVersion(self, request_iterator, context):
        return await self.UploadDocument(request_iterator, context)

    async def ReadBlob(self, request, context):
        self.seen.append(current_principal())
        for i, piece in enumerate(request.token.split(",")):
            if self.fail_after is not None and i == self.fail_after:
                raise BlobGone("the stored file is gone", field="token")
            yield pb.ReadBlobChunk(data=piece.encode())


async def chat(request_iterator, context) -> AsyncIterator[bytes]:
    who = current_principal().subject.encode()
    async for message in request_iterator:
        yield who + b":" + message


@pytest.fixture
async def served(keypair) -> AsyncIterator[tuple[Streams, Stub, Caller, grpc.aio.Channel]]:
    streams = Streams()

    def register(server: grpc.aio.Server) -> None:
        documents_pb2_grpc.add_DocumentsServiceServicer_to_server(streams, server)
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "portal.test.Echo", {"Chat": grpc.stream_stream_rpc_method_handler(chat)}
                ),
            )
        )

    ceilings = {f"{DOCS}/ReadBlob": 900.0, f"{DOCS}/UploadDocument": 900.0}
    async with serve_fake(register, DOCS[1:], keypair[1], deadline_ceilings=ceilings) as target:
        channel = open_channel(target)
        try:
            caller = Caller(PrincipalSigner(keypair[0]), stream_timeout=30)
            yield streams, Stub(channel), caller, channel
        finally:
            await channel.close()


def upload_chunks(*pieces: bytes) -> AsyncIterator[pb.UploadChunk]:
    async def chunks() -> AsyncIterator[pb.UploadChunk]:
        yield pb.UploadChunk(header=pb.UploadHeader(filename="a.pdf"))
        for piece in pieces:
            yield pb.UploadChunk(data=piece)

    return chunks()


async def refused(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        if hasattr(call, "__aiter__"):
            async for _ in call:
                continue
        else:
            await call
    return err.value


async def test_streams_without_a_principal_are_unauthenticated(served) -> None:
    streams, stub, _, channel = served
    read = stub.ReadBlob(pb.ReadBlobRequest(token="a"), timeout=5)
    upload = stub.UploadDocument(upload_chunks(b"x"), timeout=5)
    bidi = channel.stream_stream(CHAT)(iter([b"hi"]), timeout=5)
    forged = stub.ReadBlob(
        pb.ReadBlobRequest(token="a"), timeout=5, metadata=(("authorization", "Bearer no.such"),)
    )
    for call in (read, upload, bidi, forged):
        assert (await refused(call)).code() == grpc.StatusCode.UNAUTHENTICATED
    assert streams.seen == []  # refused before the handler ran


async def test_streams_need_a_deadline_within_the_methods_ceiling(served) -> None:
    streams, stub, caller, channel = served
    signed = caller.metadata(STAFF)
    no_deadline = stub.ReadBlob(pb.ReadBlobRequest(token="a"), metadata=signed)
    over_default = stub.UploadVersion(upload_chunks(b"x"), metadata=signed, timeout=120)
    over_declared = stub.ReadBlob(pb.ReadBlobRequest(token="a"), metadata=signed, timeout=1000)
    bidi = channel.stream_stream(CHAT)(iter([b"hi"]), metadata=signed, timeout=61)
    for call in (no_deadline, over_default, over_declared, bidi):
        err = await refused(call)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
        assert "deadline" in (err.details() or "")
    assert streams.seen == []


async def test_a_declared_longer_ceiling_is_honoured(served) -> None:
    _, stub, caller, _ = served
    read = caller.stream(stub.ReadBlob, pb.ReadBlobRequest(token="a,b"), STAFF, timeout=600)
    assert [c.data async for c in read] == [b"a", b"b"]
    answer = await caller.upload(stub.UploadDocument, upload_chunks(b"x"), STAFF, timeout=600)
    assert answer.document.title == "x"
    with pytest.raises(grpc.aio.AioRpcError) as err:  # the same deadline, undeclared method
        await caller.upload(stub.UploadVersion, upload_chunks(b"x"), STAFF, timeout=600)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_domain_error_mid_stream_arrives_with_its_code(served, keypair) -> None:
    streams, stub, caller, _ = served
    streams.fail_after = 2
    got = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for chunk in caller.stream(stub.ReadBlob, pb.ReadBlobRequest(token="a,b,c"), STAFF):
            got.append(chunk.data)
    assert got == [b"a", b"b"]
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    detail = error_detail(err.value)
    assert (detail.code, detail.message) == ("blob_gone", "the stored file is gone")
    assert [v.field for v in detail.field_violations] == ["token"]

    mapping = Caller(PrincipalSigner(keypair[0]), domain_errors=True)
    with pytest.raises(errors.InvalidTransition) as domain:
        async for _ in mapping.stream(stub.ReadBlob, pb.ReadBlobRequest(token="a,b,c"), STAFF):
            continue
    assert (domain.value.code, domain.value.field) == ("blob_gone", "token")


async def test_caller_streams_uploads_and_reads_with_the_principal(served) -> None:
    streams, stub, caller, channel = served
    answer = await caller.upload(stub.UploadDocument, upload_chunks(b"ab", b"cd"), STAFF)
    assert answer.document.title == "abcd"
    read = caller.stream(stub.ReadBlob, pb.ReadBlobRequest(token="x,y,z"), STAFF)
    assert b"".join([c.data async for c in read]) == b"xyz"
    assert streams.seen == [STAFF, STAFF]  # verified, whole, on the servicer's side
    replies = channel.stream_stream(CHAT)(
        iter([b"one", b"two"]), metadata=caller.metadata(STAFF), timeout=5
    )
    assert [r async for r in replies] == [b"u-1:one", b"u-1:two"]


async def test_a_nul_in_any_string_field_is_refused_before_the_handler_sees_it(served) -> None:
    """PostgreSQL cannot store NUL: whichever service, field or call kind, the
    chassis answers INVALID_ARGUMENT naming the field, not INTERNAL."""
    streams, stub, caller, _ = served
    read = caller.stream(stub.ReadBlob, pb.ReadBlobRequest(token="a\x00b"), STAFF)
    err = await refused(read)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail(err).field_violations[0].field == "token"
    assert streams.seen == []  # the handler never ran

    async def nul_in_the_header() -> AsyncIterator[pb.UploadChunk]:
        yield pb.UploadChunk(header=pb.UploadHeader(filename="a.pdf", title="Plan\x00"))
        yield pb.UploadChunk(data=b"\x00 bytes are bytes")

    err = await refused(caller.upload(stub.UploadDocument, nul_in_the_header(), STAFF))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail(err)
    assert detail.field_violations[0].field == "header.title" and "NUL" in detail.message
    answer = await caller.upload(stub.UploadDocument, upload_chunks(b"\x00ok"), STAFF)
    assert answer.document.title == "\x00ok"  # bytes fields carry anything

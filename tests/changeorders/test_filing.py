"""The approved order's certificate filed in the project's documents, by
changeorders' consumer of its own `change_order.approved`: the real
changeorders (with the real projects behind it) and the real documents,
over documents' gRPC, as it runs."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator, Iterator

import pytest
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import events_pb2
from portal.common.v1 import common_pb2
from portal.documents.v1 import documents_pb2 as dpb
from portal.projects.v1 import events_pb2 as project_events
from pypdf import PdfReader

from services.changeorders import handlers
from services.changeorders.certificate_renderer import BackgroundRenderer, CertificateRenderer
from services.changeorders.documents_client import FOLDER, DocumentsClient
from services.chassis.auth import PrincipalSigner
from services.chassis.errors import InvalidArgument, Unavailable
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.runtime import Remote
from services.documents import handlers as documents_handlers
from tests.changeorders.conftest import Site
from tests.documents.conftest import Documents, documents_url, local_documents  # noqa: F401 (fixtures)

LETTERHEAD = common_pb2.Letterhead(
    integrator_name="Northwind AV",
    address_lines=["12 Mill Lane", "Leeds LS1 4AB"],
    contact_email="projects@northwind.example",
    time_zone="Europe/London",
)


@pytest.fixture
async def archive(
    local_documents: Documents,  # noqa: F811 (the fixture imported above)
    keypair: tuple[str, str],
) -> AsyncIterator[DocumentsClient]:
    signer = PrincipalSigner(keypair[0])
    channel = open_channel(local_documents.target)
    try:
        yield DocumentsClient(Remote(channel, Caller(signer), signer))
    finally:
        await channel.close()


async def _approved(site: Site, documents: Documents) -> events_pb2.ChangeOrderApproved:
    """Documents hears of the project (as projects.project.created lands there);
    the approver signs an order through the gateway's call, letterhead and all."""
    await documents.deliver(
        list(documents_handlers.SUBSCRIPTIONS),
        project_events.ProjectCreated(
            project_id=site.project.id,
            reference=site.project.reference,
            name=site.project.name,
            customer_id=site.side.customer_id,
        ),
        tenant_id=site.tenant_id,
        aggregate_id=site.project.id,
    )
    order = await site.sent()
    await site.approve(order, letterhead=LETTERHEAD)
    (event,) = await site.svc.events(site.tenant_id, events_pb2.ChangeOrderApproved)
    return event


async def _deliver(
    site: Site, archive, event: events_pb2.ChangeOrderApproved, renderer=None
) -> None:
    await site.svc.deliver(
        handlers.subscriptions(documents=archive, renderer=renderer),
        event,
        tenant_id=site.tenant_id,
        aggregate_id=event.change_order_id,
    )


async def _filed(site: Site, documents: Documents, principal=None) -> list[dpb.Document]:
    answer = await documents(
        "ListDocuments",
        dpb.ListDocumentsRequest(project_id=site.project.id),
        principal or site.pm,
    )
    return list(answer.documents)


@pytest.fixture(params=["inline", "background"])
def renderer(request: pytest.FixtureRequest) -> Iterator[CertificateRenderer | None]:
    """As the tests' services draw (in the consumer), and as the service runs
    (in its niced child process): the same certificate filed either way."""
    if request.param == "inline":
        yield None
        return
    background = BackgroundRenderer()
    try:
        yield background
    finally:
        background.close()


async def test_approving_files_the_certificate_client_visible_once_however_often_it_lands(
    site: Site,
    local_documents: Documents,  # noqa: F811
    archive: DocumentsClient,
    renderer: CertificateRenderer | None,
    tmp_path,
) -> None:
    event = await _approved(site, local_documents)
    assert event.letterhead.integrator_name == "Northwind AV"  # carried for the consumer

    for _ in range(2):  # redelivered (another event id): documents keeps one upload
        await _deliver(site, archive, event, renderer)

    (filed,) = await _filed(site, local_documents)
    assert filed.title == f"{event.number} approved: Second subwoofer"
    assert filed.client_visible
    assert filed.current.filename.endswith(".pdf") and filed.current.number == 1
    folders = await local_documents(
        "ListFolders", dpb.ListFoldersRequest(project_id=site.project.id), site.pm
    )
    assert [f.name for f in folders.folders if f.id == filed.folder_id] == [FOLDER]
    # The client sees it among the project's documents.
    (theirs,) = await _filed(site, local_documents, site.approver)
    assert theirs.id == filed.id

    # What was filed is the certificate GetCertificatePdf draws in the same letterhead.
    drawn = await site(
        "GetCertificatePdf",
        pb.GetCertificatePdfRequest(change_order_id=event.change_order_id, letterhead=LETTERHEAD),
        site.pm,
    )
    assert filed.current.sha256 == hashlib.sha256(drawn.pdf).hexdigest()
    (tmp_path / "certificate.pdf").write_bytes(drawn.pdf)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(drawn.pdf)).pages)
    assert "Northwind AV" in text and event.number in text


class Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.tries = 0

    async def file(self, **upload: object) -> None:
        self.tries += 1
        raise self.error


async def test_documents_down_fails_the_handler_so_the_consumer_retries_it(
    site: Site,
    local_documents: Documents,  # noqa: F811
) -> None:
    event = await _approved(site, local_documents)
    down = Refusing(Unavailable("documents is unavailable"))
    with pytest.raises(Unavailable):
        await _deliver(site, down, event)
    assert down.tries == 1


async def test_a_final_refusal_is_logged_and_the_event_handled(
    site: Site,
    local_documents: Documents,  # noqa: F811
) -> None:
    event = await _approved(site, local_documents)
    refusing = Refusing(InvalidArgument("this file type is not allowed", field="filename"))
    await _deliver(site, refusing, event)  # no raise: not a dead letter
    assert refusing.tries == 1


class Counting:
    """The filer's caller, noting each documents method it calls."""

    def __init__(self, call) -> None:  # type: ignore[no-untyped-def]
        self._call = call
        self.methods: list[str] = []

    async def __call__(self, method, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.methods.append(method._method.decode().rsplit("/", 1)[-1])
        return await self._call(method, *args, **kwargs)

    async def upload(self, method, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.methods.append(method._method.decode().rsplit("/", 1)[-1])
        return await self._call.upload(method, *args, **kwargs)


@pytest.mark.parametrize("by_hand", [False, True])
async def test_the_folder_is_found_or_made_in_one_call_unless_one_was_named_so_by_hand(
    site: Site,
    local_documents: Documents,  # noqa: F811
    archive: DocumentsClient,
    by_hand: bool,
) -> None:
    event = await _approved(site, local_documents)
    hand_made = ""
    if by_hand:
        made = await local_documents(
            "CreateFolder",
            dpb.CreateFolderRequest(request_id="by-hand", project_id=site.project.id, name=FOLDER),
            site.pm,
        )
        hand_made = made.folder.id
    counting = Counting(archive._call)
    archive._call = counting  # type: ignore[assignment]
    await _deliver(site, archive, event)
    expected = ["CreateFolder", "ListFolders", "UploadDocument"] if by_hand else None
    assert counting.methods == (expected or ["CreateFolder", "UploadDocument"])
    (filed,) = await _filed(site, local_documents)
    folders = await local_documents(
        "ListFolders", dpb.ListFoldersRequest(project_id=site.project.id), site.pm
    )
    assert [f.id for f in folders.folders if f.name == FOLDER] == [filed.folder_id]
    if by_hand:
        assert filed.folder_id == hand_made

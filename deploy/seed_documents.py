"""The demo project's documents: a client-visible handover guide and an
internal rack schematic, uploaded through documents' streaming contract as
staff would."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from fpdf import FPDF
from portal.documents.v1 import documents_pb2 as dpb

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller

NS = uuid.UUID("3d1f0a52-9c1e-4b1b-8f4e-5a7d6c2b9e10")
CHUNK = 64 * 1024


def _pdf(title: str, lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


DOCUMENTS = [
    (
        "Handover guide",
        "handover-guide.pdf",
        "Handover",
        True,
        _pdf(
            "Your home cinema: handover guide",
            [
                "Turning the cinema on: press Watch on the Halo remote and pick a source.",
                "Lights dim to 20% when a film starts and return at the credits.",
                "Projector lamp hours and filter: we check them at each service visit.",
                "Need help? Call the studio on +1 555 0134.",
            ],
        ),
    ),
    (
        "Rack schematic (internal)",
        "rack-schematic.pdf",
        "Schematics",
        False,
        _pdf(
            "Equipment rack: signal flow and power",
            [
                "U41-U38: Panamax M4315-PRO, sequenced outlets 1-8.",
                "U30: Anthem AVM 70; HDMI out 1 to Sony VPL-XW7000ES via fibre run F3.",
                "U24-U20: 2x Anthem MCA 525 Gen 2, bridged channels 7-10.",
                "Control4 CORE 5 on VLAN 40; static lease 10.40.0.10.",
            ],
        ),
    ),
]


def _chunks(header: dpb.UploadHeader, data: bytes):
    yield dpb.UploadChunk(header=header)
    for i in range(0, len(data), CHUNK):
        yield dpb.UploadChunk(data=data[i : i + CHUNK])


async def seed_documents(
    *, stub, call: Caller, staff: Principal, project_id: str, timeout: float = 30.0
) -> None:
    # Uploads are idempotent by request id: a second run uploads nothing new.
    folders = {}
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            found = await call(
                stub.ListFolders, dpb.ListFoldersRequest(project_id=project_id), staff
            )
            folders = {f.name: f.id for f in found.folders}
            break
        except grpc.aio.AioRpcError as exc:
            # Documents learns of the project from projects' event: wait for it.
            if exc.code() not in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
                raise
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)
    for title, filename, folder, visible, data in DOCUMENTS:
        header = dpb.UploadHeader(
            request_id=str(uuid.uuid5(NS, filename)),
            project_id=project_id,
            folder_id=folders.get(folder, ""),
            title=title,
            filename=filename,
            client_visible=visible,
            declared_size=len(data),
        )
        await call.upload(stub.UploadDocument, _chunks(header, data), staff, timeout=30)


async def seed_demo_documents(
    *, documents_target: str, private_key: str, tenant_id: str, project_id: str
) -> None:
    from portal.documents.v1 import documents_pb2_grpc

    from services.chassis.grpc_client import open_channel

    async with open_channel(documents_target) as channel:
        await seed_documents(
            stub=documents_pb2_grpc.DocumentsServiceStub(channel),
            call=Caller(PrincipalSigner(private_key)),
            staff=Principal(kind="service", subject="seed", tenant_id=tenant_id),
            project_id=project_id,
        )

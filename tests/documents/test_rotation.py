"""`portal documents rotate-key`'s service function on a database and blob
directory of its own: every data key re-wrapped, contents untouched, files
still readable with only the new key, a second run a no-op."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from portal.projects.v1 import events_pb2 as project_events
from sqlalchemy import select

from deploy.cli import main as cli_main
from deploy.infra import Postgres
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork, make_engine, make_sessionmaker
from services.chassis.events import Event, subject_for
from services.chassis.migrations import upgrade
from services.documents import handlers, service
from services.documents.blobcrypt import MasterKeys
from services.documents.blobstore import LocalBlobStore
from services.documents.models import Blob
from services.documents.service import Vault
from tests.documents.conftest import LINK_SECRET, random_pdf

K1 = b"\x01" * 32
K2 = b"\x02" * 32


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 50_000):
        yield data[i : i + 50_000]


async def test_rotation_rewraps_every_blob_and_keeps_files_readable(
    postgres: Postgres, tmp_path: Path
) -> None:
    name = f"documents_rot{uuid.uuid4().hex[:8]}"
    url = postgres.ensure_service_database(name, "documents-test-password")
    upgrade("documents", url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    store = LocalBlobStore(tmp_path)
    old = Vault(store=store, keys=MasterKeys({"k1": K1}, "k1"), link_secret=LINK_SECRET)
    files: dict[str, tuple[str, bytes]] = {}
    try:
        for _ in range(2):  # two tenants: rotation crosses them
            tenant, project = str(uuid.uuid4()), str(uuid.uuid4())
            async with UnitOfWork(sessions, tenant) as uow:
                await service.on_project_created(
                    uow,
                    Event(
                        id=str(uuid.uuid4()),
                        type=subject_for(project_events.ProjectCreated),
                        tenant_id=tenant,
                        occurred_at=datetime.now(UTC),
                        aggregate_type="project",
                        aggregate_id=project,
                        payload=project_events.ProjectCreated(
                            project_id=project, name="P", customer_id=str(uuid.uuid4())
                        ),
                    ),
                )
                await uow.commit()
            pm = Principal(kind="staff", subject="pm", tenant_id=tenant, roles=frozenset({"admin"}))
            for _ in range(3):
                data = random_pdf(150_000)
                doc = await service.upload(
                    sessions=sessions,
                    vault=old,
                    principal=pm,
                    header=service.UploadHeader(
                        request_id=str(uuid.uuid4()), project_id=project, filename="a.pdf"
                    ),
                    chunks=_pieces(data),
                    new_version=False,
                )
                assert doc.current is not None
                link = await service.create_download_link(
                    sessions=sessions,
                    vault=old,
                    principal=pm,
                    document_id=str(doc.document.id),
                    version_id="",
                )
                files[doc.current.blob_id] = (link.token, data)
        contents = {b: store.path(f"{b}.bin").read_bytes() for b in files}

        new = Vault(
            store=store, keys=MasterKeys({"k1": K1, "k2": K2}, "k2"), link_secret=LINK_SECRET
        )
        report = await service.rotate_keys(sessions=sessions, vault=new)
        assert (report.rewrapped, report.already_current) == (6, 0)
        again = await service.rotate_keys(sessions=sessions, vault=new)
        assert (again.rewrapped, again.already_current) == (0, 0)

        async with UnitOfWork(sessions, None) as uow:
            assert set(await uow.session.scalars(select(Blob.key_id))) == {"k2"}
        only_k2 = Vault(store=store, keys=MasterKeys({"k2": K2}, "k2"), link_secret=LINK_SECRET)
        for blob_id, (token, data) in files.items():
            assert store.path(f"{blob_id}.bin").read_bytes() == contents[blob_id]
            opened = await service.read_blob(
                sessions=sessions,
                vault=only_k2,
                principal=Principal(kind="service", subject="gateway", tenant_id=""),
                token=token,
                offset=0,
                length=0,
                has_range=False,
            )
            assert b"".join([p async for p in opened.chunks]) == data
    finally:
        await engine.dispose()
        postgres.drop_database(name)


async def test_a_project_created_event_is_applied_once(local_acme) -> None:
    """Redelivered or duplicated: the first fact wins, nothing else changes
    (our project copy and the audience copy both)."""
    project = await local_acme.project(name="First")
    await local_acme.svc.deliver(
        list(handlers.SUBSCRIPTIONS),
        project_events.ProjectCreated(
            project_id=project, name="Changed", customer_id=str(uuid.uuid4())
        ),
        tenant_id=local_acme.tenant_id,
        aggregate_id=project,
    )
    await local_acme.upload(project, client_visible=True)
    from portal.documents.v1 import documents_pb2 as pb

    listed = await local_acme.svc(
        "ListDocuments", pb.ListDocumentsRequest(project_id=project), local_acme.client()
    )
    assert len(listed.documents) == 1  # still the original customer's project


def test_the_cli_rotates_keys_idempotently(
    postgres: Postgres,
    tmp_path: Path,
    keypair: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`portal documents rotate-key`, configured the way the service is."""
    name = f"documents_cli{uuid.uuid4().hex[:8]}"
    url = postgres.ensure_service_database(name, "documents-test-password")
    upgrade("documents", url)
    store = LocalBlobStore(tmp_path)
    tenant, project = str(uuid.uuid4()), str(uuid.uuid4())

    async def seed() -> None:
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        try:
            async with UnitOfWork(sessions, tenant) as uow:
                await service.on_project_created(
                    uow,
                    Event(
                        id=str(uuid.uuid4()),
                        type=subject_for(project_events.ProjectCreated),
                        tenant_id=tenant,
                        occurred_at=datetime.now(UTC),
                        aggregate_type="project",
                        aggregate_id=project,
                        payload=project_events.ProjectCreated(
                            project_id=project, name="P", customer_id=str(uuid.uuid4())
                        ),
                    ),
                )
                await uow.commit()
            await service.upload(
                sessions=sessions,
                vault=Vault(
                    store=store, keys=MasterKeys({"k1": K1}, "k1"), link_secret=LINK_SECRET
                ),
                principal=Principal(
                    kind="staff", subject="pm", tenant_id=tenant, roles=frozenset({"owner"})
                ),
                header=service.UploadHeader(
                    request_id=str(uuid.uuid4()), project_id=project, filename="a.pdf"
                ),
                chunks=_pieces(random_pdf(1000)),
                new_version=False,
            )
        finally:
            await engine.dispose()

    asyncio.run(seed())
    env = {
        "DOCUMENTS_DATABASE_URL": url,
        "DOCUMENTS_PRINCIPAL_PUBLIC_KEY": keypair[1],
        "DOCUMENTS_BLOB_DIR": str(tmp_path),
        "DOCUMENTS_MASTER_KEYS": json.dumps(
            {"k1": base64.b64encode(K1).decode(), "k2": base64.b64encode(K2).decode()}
        ),
        "DOCUMENTS_ACTIVE_KEY_ID": "k2",
        "DOCUMENTS_LINK_SECRET": LINK_SECRET.decode(),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        cli_main(["documents", "rotate-key"])
        assert "1 blob(s) re-wrapped under key 'k2'" in capsys.readouterr().out
        cli_main(["documents", "rotate-key"])
        assert "0 blob(s) re-wrapped" in capsys.readouterr().out
    finally:
        postgres.drop_database(name)

"""What each service declares: its settings class, the services it calls,
what it subscribes to and the jobs it runs."""

from __future__ import annotations

from types import SimpleNamespace

import grpc
import pytest
from portal.projects.v1.events_pb2 import ProposalAccepted

from services.chassis.auth import PrincipalSigner
from services.chassis.grpc_client import Caller
from services.chassis.runtime import ConfigurationError, Remote, check_configuration
from services.documents.__main__ import SPEC as DOCUMENTS
from services.identity.__main__ import SPEC as IDENTITY
from services.notifications.__main__ import SPEC as NOTIFICATIONS
from services.notifications.service import MAIL_CHANNEL
from services.notifications.settings import NotificationsSettings
from services.projects.__main__ import SPEC as PROJECTS
from services.projects.settings import ProjectsSettings


def fake_deps(settings, keypair):
    signer = PrincipalSigner(keypair[0])
    remote = Remote(grpc.aio.insecure_channel("127.0.0.1:1"), Caller(signer), signer)
    return SimpleNamespace(
        name="x", settings=settings, sessions=object(), remote=lambda service: remote
    )


def test_each_service_declares_its_own_settings_and_what_it_calls():
    assert (PROJECTS.settings, PROJECTS.calls) == (ProjectsSettings, ("documents", "identity"))
    assert (NOTIFICATIONS.settings, NOTIFICATIONS.calls) == (NotificationsSettings, ("identity",))
    assert IDENTITY.calls == () and DOCUMENTS.calls == ()


def test_projects_without_its_documents_or_identity_target_refuses_to_start(keypair):
    settings = ProjectsSettings(
        database_url="postgresql+asyncpg://x/y",
        principal_public_key=keypair[1],
        principal_private_key=keypair[0],
    )
    with pytest.raises(ConfigurationError, match="PROJECTS_DOCUMENTS_TARGET") as refused:
        check_configuration(PROJECTS, settings)
    assert "PROJECTS_IDENTITY_TARGET" in str(refused.value)


async def test_projects_always_files_accepted_proposals(keypair):
    settings = ProjectsSettings(
        database_url="postgresql+asyncpg://x/y",
        principal_public_key=keypair[1],
        principal_private_key=keypair[0],
        documents_target="127.0.0.1:1",
    )
    subs = PROJECTS.subscriptions(fake_deps(settings, keypair))  # type: ignore[arg-type]
    assert ProposalAccepted in {s.payload_type for s in subs}


async def test_notifications_declares_the_mailer_on_notify_and_a_singleton_digest(keypair):
    settings = NotificationsSettings(
        database_url="postgresql+asyncpg://x/y",
        principal_public_key=keypair[1],
        principal_private_key=keypair[0],
        identity_target="127.0.0.1:1",
        share_digest_interval_seconds=7,
    )
    mailer, digests = NOTIFICATIONS.jobs(fake_deps(settings, keypair))  # type: ignore[arg-type]
    assert (mailer.name, mailer.channel, mailer.singleton) == ("mailer", MAIL_CHANNEL, False)
    assert (digests.name, digests.interval, digests.singleton) == ("share-digests", 7, True)

"""A database that is not there answers UNAVAILABLE (the gateway's 503 with
Retry-After: try again), never INTERNAL (a 500 nobody can act on): with
nothing listening at its address, and when PostgreSQL ends the service's
pooled connections under it (as a restart or failover does): the pool
discards a connection asyncpg knows is closed at checkout, so the next call
works on a fresh one, the service untouched (before, the reads that talk to
asyncpg directly put the dead connection back, and failed for good)."""

from __future__ import annotations

import grpc
from portal.projects.v1 import projects_pb2 as pb
from portal.projects.v1 import projects_pb2_grpc
from sqlalchemy import text

from deploy.infra import Postgres, free_port
from services.chassis.auth import PrincipalVerifier
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.grpc_client import open_channel
from services.chassis.grpc_server import start_grpc_server
from services.projects.grpc_api import ProjectsServicer
from tests.projects.conftest import SERVICE_NAME, Integrator

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


async def test_a_database_nobody_listens_at_answers_unavailable(acme: Integrator, keypair):
    url = acme.svc.url.rsplit("@", 1)[0] + f"@127.0.0.1:{free_port()}/nowhere"
    engine = make_engine(url, pool_size=1)
    servicer = ProjectsServicer(make_sessionmaker(engine), customers=None, tenants=None)
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(keypair[1]),
        register=lambda srv: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(servicer, srv),
        service_names=[SERVICE_NAME],
    )
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        stub = projects_pb2_grpc.ProjectsServiceStub(channel)
        err = None
        try:
            await acme.svc.caller(stub.ListProjects, pb.ListProjectsRequest(), acme.staff())
        except grpc.aio.AioRpcError as exc:
            err = exc
        assert err is not None and err.code() == UNAVAILABLE, err
        assert "database is unavailable" in (err.details() or "")
    finally:
        await channel.close()
        await server.stop(None)
        await engine.dispose()


async def test_connections_ended_under_the_service_answer_unavailable_then_recover(
    acme: Integrator, postgres: Postgres
):
    listed = await acme("ListProjects", pb.ListProjectsRequest(), acme.staff())
    database = acme.svc.url.rsplit("/", 1)[1]
    engine = make_engine(postgres.admin_url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.connect() as admin:
            ended = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
        assert ended >= 1  # the pool held at least the connection the first call used
    finally:
        await engine.dispose()
    # Each pooled connection is found dead once, on its next use: UNAVAILABLE
    # then, never INTERNAL; after at most one try per connection, it works.
    codes = []
    for _ in range(25):
        try:
            again = await acme("ListProjects", pb.ListProjectsRequest(), acme.staff())
        except grpc.aio.AioRpcError as exc:
            codes.append(exc.code())
            continue
        assert list(again.projects) == list(listed.projects)
        break
    else:
        raise AssertionError(f"never recovered: {codes}")
    assert set(codes) <= {UNAVAILABLE}, codes

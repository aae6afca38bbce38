"""`python -m bench.bookings_local [--py-spy DIR]`: bench/bookings.py's two
measurements without the whole suite, for profiling and before/after
comparisons on a busy machine: PostgreSQL, bookings' real gRPC server and a
stand-in projects (the site address BookVisit asks for), all but PostgreSQL in
this one process. Its "server CPU" is this process plus PostgreSQL's
backends, so it includes the calling side too: an upper bound. With
`--py-spy DIR` this process is recorded during the slot search.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc

from bench.bookings import Demo, _py_spy, seed, slot_search
from bench.bookings_race import race
from deploy.infra.postgres import Postgres
from services.bookings.grpc_api import BookingsServicer
from services.bookings.projects_client import ProjectsClient
from services.chassis.auth import PrincipalSigner, PrincipalVerifier, generate_keypair
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.chassis.migrations import upgrade
from services.chassis.runtime import Remote


class StandInProjects(projects_pb2_grpc.ProjectsServiceServicer):
    """Every project is the customer's, at one address, with no rooms."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id

    async def GetProject(self, request, context):
        return ppb.GetProjectResponse(
            project=ppb.Project(
                id=request.project_id, customer_id=self.customer_id, site_address="1 Bench Road"
            )
        )

    async def ListRooms(self, request, context):
        return ppb.ListRoomsResponse(rooms=[])


async def _serve(register, name: str, public: str):
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public),
        register=register,
        service_names=[name],
    )
    return server, f"127.0.0.1:{port}"


async def run(url: str, pg_pid: int, profile: Path | None) -> dict:
    private, public = generate_keypair()
    demo = Demo(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    began = time.perf_counter()
    cal = await seed(url, demo, facts=True)
    out: dict = {"seed_s": time.perf_counter() - began}
    engine = make_engine(url, pool_size=20)
    projects_server, projects_target = await _serve(
        lambda srv: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(
            StandInProjects(demo.customer_id), srv
        ),
        ppb.DESCRIPTOR.services_by_name["ProjectsService"].full_name,
        public,
    )
    signer = PrincipalSigner(private)
    channel = open_channel(projects_target)
    servicer = BookingsServicer(
        make_sessionmaker(engine), ProjectsClient(Remote(channel, Caller(signer), signer))
    )
    server, target = await _serve(
        lambda srv: bookings_pb2_grpc.add_BookingsServiceServicer_to_server(servicer, srv),
        pb.DESCRIPTOR.services_by_name["BookingsService"].full_name,
        public,
    )
    spy = _py_spy(os.getpid(), profile) if profile is not None else None
    if spy is not None:
        await asyncio.sleep(1.0)  # attached before the first call
    try:
        out["slots"] = await slot_search(target, private, cal, [os.getpid(), pg_pid])
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await asyncio.to_thread(spy.wait, 60)
        out["race"] = await race(target, private, cal)
    finally:
        await server.stop(None)
        await projects_server.stop(None)
        await channel.close()
        await engine.dispose()
    return out


def main() -> None:
    from bench.run import PG_SETTINGS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--py-spy", type=Path, default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-bookings-local-"))
    postgres = Postgres(tmp / "pg", settings=PG_SETTINGS)
    postgres.start()
    try:
        url = postgres.ensure_service_database("bookings", "bench-bookings-password")
        upgrade("bookings", url)
        print(json.dumps(asyncio.run(run(url, postgres.pid or 0, args.py_spy)), indent=2))
    finally:
        postgres.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

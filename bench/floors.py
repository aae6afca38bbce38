"""The floors the suite is compared with, each run as its own process like the
real gateway and services:

    python -m bench.floors http --port N
        FastAPI, one uvicorn worker (uvloop, httptools), GET /api/v1/projects
        answers a small JSON list from memory.
    python -m bench.floors grpc-server --port N
        A bare grpc.aio server (uvloop) with only the standard health servicer.
    python -m bench.floors grpc-http --port N --target 127.0.0.1:M
        The same FastAPI endpoint, making one grpc.aio health Check per request.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

PATH = "/api/v1/projects"

# The shape of the suite's answer with the one demo project.
PROJECTS: dict[str, Any] = {
    "projects": [
        {
            "id": "7f4bd2f0-31a1-4d6a-9c0e-2f5f1f8a7e10",
            "reference": "PRJ-0001",
            "name": "Home cinema & whole-home audio",
            "customer_id": "1c5a2a8e-2b0a-4b8e-8f55-0b3c9d0d5e21",
            "site_address": "14 Larch Lane, Westport, CT 06880",
            "stage": "install",
            "created_at": "2025-01-01T12:00:00Z",
            "stage_changed_at": "2025-01-01T12:00:00Z",
        }
    ],
    "next_page_token": "",
}


def _uvicorn(app: Any, port: int) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        server_header=False,
    )


def bare_http(port: int) -> None:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(PATH)
    async def list_projects() -> dict[str, Any]:
        return PROJECTS

    _uvicorn(app, port)


def grpc_http(port: int, target: str) -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with grpc.aio.insecure_channel(target) as channel:
            yield {"health": health_pb2_grpc.HealthStub(channel)}

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    request_message = health_pb2.HealthCheckRequest(service="")

    @app.get(PATH)
    async def list_projects(request: Request) -> dict[str, Any]:
        response = await request.state.health.Check(request_message, timeout=5)
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError("floor gRPC server not serving")
        return PROJECTS

    _uvicorn(app, port)


def grpc_server(port: int) -> None:
    import grpc
    import uvloop
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    async def serve() -> None:
        import signal

        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
            raise SystemExit(f"cannot bind 127.0.0.1:{port}")
        await server.start()
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop(grace=1)

    uvloop.install()
    asyncio.run(serve())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floors", description=__doc__)
    parser.add_argument("kind", choices=["http", "grpc-server", "grpc-http"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", help="grpc-http: the floor gRPC server, host:port")
    args = parser.parse_args(argv)
    if args.kind == "http":
        bare_http(args.port)
    elif args.kind == "grpc-server":
        grpc_server(args.port)
    else:
        if not args.target:
            parser.error("grpc-http needs --target")
        grpc_http(args.port, args.target)


if __name__ == "__main__":
    main()

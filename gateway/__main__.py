"""`python -m gateway [--port N]`: serve the gateway with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn
from pydantic import ValidationError

from gateway.app import create_app
from gateway.route_warmup import warm_routes
from gateway.settings import GatewaySettings
from services.chassis.runtime import freeze_startup_heap
from services.chassis.telemetry import get_logger

log = get_logger("gateway")

# Our own logs are structured JSON; uvicorn's are kept to warnings and errors
# (including tracebacks), and its per-request access log is off: traces cover that.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def load_settings() -> GatewaySettings:
    try:
        return GatewaySettings()
    except ValidationError as exc:
        reasons = "; ".join(
            str(e["msg"]).removeprefix("Value error, ")
            if not e["loc"]
            else f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors()
        )
        raise SystemExit(f"gateway: cannot start: {reasons}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    parser.add_argument("--port", type=int, help="listen on this port (overrides GATEWAY_PORT)")
    args = parser.parse_args(argv)
    settings = load_settings()
    port = settings.port if args.port is None else args.port
    app = create_app(settings)
    # Before the port opens: otherwise the first requests wait for it.
    warmed = warm_routes(app.router.routes)
    freeze_startup_heap()  # full collections would stop the loop for ~150 ms each
    log.info(
        "gateway starting",
        host=settings.host,
        port=port,
        environment=settings.environment,
        routers_prepared=warmed,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=port,
        loop="auto",  # uvloop when installed (everywhere but Windows)
        proxy_headers=False,  # the Host header decides the tenant; trust no X-Forwarded-*
        server_header=False,
        access_log=False,
        log_config=LOG_CONFIG,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()

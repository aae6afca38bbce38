"""`portal changeorders verify CO-003 --project PRJ-0001`: check a change
order's evidence chain in changeorders' own database and say where it breaks.

It reads the database as the service's role (CHANGEORDERS_DATABASE_URL, else
the running `make run` suite's `.data/dev.json`), inside the tenant named by
--tenant (default: the demo integrator of `make run`). Exit status 0 when the
chain holds, 1 when a link is broken, 2 when the order cannot be found.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from deploy.suite import DATA_DIR, DEV_JSON
from services.chassis.errors import DomainError


def add_parser(sub: argparse._SubParsersAction) -> None:
    orders = sub.add_parser("changeorders", help="change orders: check an evidence chain")
    commands = orders.add_subparsers(dest="changeorders_command", required=True)
    verify = commands.add_parser(
        "verify", help="check a change order's hash-chained audit log; report the first broken link"
    )
    verify.add_argument("number", help="the order's number, e.g. CO-003")
    verify.add_argument("--project", required=True, help="the project: PRJ-0001 or its id")
    verify.add_argument("--tenant", default="", help="the integrator's tenant id")
    verify.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="the local suite's data (default .data)"
    )


def _tenant(args: argparse.Namespace) -> str:
    if args.tenant:
        return args.tenant
    dev = args.data_dir / DEV_JSON
    if dev.exists():
        return json.loads(dev.read_text())["tenant_id"]
    raise SystemExit("name the integrator with --tenant (no local suite to default to)")


def run(args: argparse.Namespace, database_url: str) -> int:
    return asyncio.run(verify(database_url, _tenant(args), args.project, args.number))


async def verify(database_url: str, tenant_id: str, project: str, number: str) -> int:
    from services.changeorders.service import verify_by_number
    from services.chassis.db import make_engine, make_sessionmaker

    engine = make_engine(database_url, pool_size=1)
    try:
        trail = await verify_by_number(
            sessions=make_sessionmaker(engine), tenant_id=tenant_id, project=project, number=number
        )
    except DomainError as exc:
        print(f"changeorders: {exc.message}")
        return 2
    finally:
        await engine.dispose()
    order, verdict = trail.order, trail.verdict
    if verdict.intact:
        last = trail.entries[-1]
        print(
            f"{order.reference}: the chain holds: {verdict.entries} entries, "
            f"the last ({last.action}) {last.sha256}"
        )
        return 0
    print(f"{order.reference}: the chain is broken at entry {verdict.broken_at}: {verdict.problem}")
    return 1

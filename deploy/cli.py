"""`portal`: run the suite locally, migrate, onboard integrators, check change orders' evidence,
and look after dead letters."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from deploy import changeorders_cli, tenants_cli
from deploy.seed_payments import MINIMUM_PART_PAYMENT_MINOR
from deploy.suite import DATA_DIR, DEV_JSON, LOCALSTRIPE_KEY, SERVICES, Suite, SuiteOptions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole suite with a seeded demo integrator")
    run.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORTAL_PORT", "0")) or None,
        help="gateway port (default 8000 if free, else any free port)",
    )
    run.add_argument("--data-dir", type=Path, default=DATA_DIR)
    sub.add_parser("migrate", help="migrate every service database named in the environment")
    sub.add_parser("protos", help="regenerate Python code from protos/")
    events = sub.add_parser("events", help="dead letters: list and replay")
    ev = events.add_subparsers(dest="events_command", required=True)
    dl = ev.add_parser("dead-letters", help="list events a consumer gave up on")
    dl.add_argument("--service", choices=SERVICES)
    rp = ev.add_parser("replay", help="run a dead-lettered event's handler again")
    rp.add_argument("id")
    rp.add_argument("--service", choices=SERVICES)
    tenants_cli.add_parser(sub)
    changeorders_cli.add_parser(sub)
    documents = sub.add_parser("documents", help="the document library's storage")
    dc = documents.add_subparsers(dest="documents_command", required=True)
    dc.add_parser(
        "rotate-key",
        help="re-wrap every blob's data key under DOCUMENTS_ACTIVE_KEY_ID (idempotent)",
    )
    args = parser.parse_args(argv)

    if args.command == "run":
        run_suite(args.data_dir, args.port)
    elif args.command == "migrate":
        migrate()
    elif args.command == "protos":
        from deploy.protos import main as protos_main

        protos_main()
    elif args.command == "documents":
        asyncio.run(rotate_document_keys())
    elif args.command == "tenants":
        sys.exit(tenants_cli.run(args))
    elif args.command == "changeorders":
        sys.exit(changeorders_cli.run(args, _settings("changeorders").database_url))
    elif args.events_command == "dead-letters":
        asyncio.run(list_dead_letters(args.service))
    else:
        asyncio.run(replay(args.id, args.service))


# -- run ------------------------------------------------------------------


def _gateway_port(requested: int | None) -> int:
    if requested:
        return requested
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8000))
            return 8000
        except OSError:
            from deploy.infra import free_port

            return free_port()


def run_suite(data_dir: Path, port: int | None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    suite = Suite(SuiteOptions(data_dir=data_dir, gateway_port=_gateway_port(port)))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("starting PostgreSQL, NATS, the SMTP sink and every service ...", flush=True)
    suite.start()
    try:
        info = seed_and_describe(suite, data_dir)
        print(banner(info), flush=True)
        while not stop.is_set():
            crashed = suite.crashed()
            if crashed:
                print(
                    f"\n{', '.join(crashed)} exited unexpectedly; stopping everything", flush=True
                )
                break
            stop.wait(0.5)
    finally:
        print("\nstopping ...", flush=True)
        suite.stop()
        print("stopped.", flush=True)
    if suite.crashed():
        sys.exit(1)


def seed_and_describe(suite: Suite, data_dir: Path) -> dict:
    from deploy.seed import DEMO_PASSWORD, DEMO_SLUG, seed_demo
    from deploy.seed_change_orders import seed_demo_change_orders
    from deploy.seed_documents import seed_demo_documents

    dev_path = data_dir / DEV_JSON
    known = json.loads(dev_path.read_text()) if dev_path.exists() else {}
    demo = asyncio.run(
        seed_demo(
            identity_target=suite.target("identity"),
            projects_target=suite.target("projects"),
            payments_target=suite.target("payments"),
            bookings_target=suite.target("bookings"),
            private_key=suite.private_key,
            known_token=known.get("staff_token"),
            stripe_url=suite.stripe_url if suite.has_localstripe else None,
            stripe_key=LOCALSTRIPE_KEY,
            # The demo integrator's books: QuickBooks Online on the local sandbox.
            books_callback=f"{suite.scheme_host(DEMO_SLUG)}/console/accounting/callback"
            if "books" in suite.children
            else None,
        )
    )
    asyncio.run(
        seed_demo_documents(
            documents_target=suite.target("documents"),
            private_key=suite.private_key,
            tenant_id=demo.tenant_id,
            project_id=demo.project_id,
        )
    )
    change_order_id = asyncio.run(
        seed_demo_change_orders(
            changeorders_target=suite.target("changeorders"),
            private_key=suite.private_key,
            tenant_id=demo.tenant_id,
            project_id=demo.project_id,
        )
    )
    host = f"{demo.slug}.{suite.opts.base_domain}:{suite.ports['gateway']}"
    info = {
        "gateway_url": suite.gateway_url,
        "demo_host": host,
        "demo_url": f"http://{host}",
        "tenant_id": demo.tenant_id,
        "staff_email": demo.staff_email,
        "staff_password": DEMO_PASSWORD,
        "staff_token": demo.staff_token,
        "client_logins": [{**c, "password": DEMO_PASSWORD} for c in demo.contacts],
        "demo_project_id": demo.project_id,
        "demo_customer_id": demo.customer_id,
        "demo_change_order_id": change_order_id,
        "demo_invoices": describe_money(demo.money),
        "demo_service_type_id": demo.service_type_id,
        "mail_url": suite.mail_url,
        "platform_url": suite.platform_url,
        "platform_token": suite.platform_token,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "services": {name: suite.service_env(name) for name in SERVICES},
        "pids": suite.pids(),
    }
    dev_path.write_text(json.dumps(info, indent=2))
    dev_path.chmod(0o600)
    return info


def describe_money(money) -> dict:
    """The demo invoices, as `make run` prints them (and dev.json keeps them)."""
    from services.chassis.money import format_amount, format_money

    deposit, install = money.deposit, money.install
    return {
        "deposit": {
            "id": deposit.id,
            "number": deposit.number,
            "total": format_money(deposit.total),
            "due": format_money(deposit.due),
            "paid_by": money.paid_by,
        },
        "install": {
            "id": install.id,
            "number": install.number,
            "total": format_money(install.total),
            "due": format_money(install.due),
            "due_minor": install.due.amount_minor,
            "currency": install.due.currency,
            "minimum_part_payment": format_amount(MINIMUM_PART_PAYMENT_MINOR, install.due.currency),
        },
    }


def _money_lines(info: dict) -> str:
    invoices = info.get("demo_invoices")
    if not invoices:
        return ""
    d, i = invoices["deposit"], invoices["install"]
    how = "by card on localstripe" if d["paid_by"] == "card" else "offline (no localstripe)"
    host = info["demo_host"].split(":")[0]
    body = (
        f'{{"method": "bank_transfer", "amount_minor": AMOUNT, '
        f'"currency": "{i["currency"]}", "reference": "BACS 1001"}}'
    )
    minimum = i["minimum_part_payment"]
    return f"""
    Payments (the demo project's plan: 50% deposit, 40% at install, 10% at handover):
      {d["number"]} deposit {d["total"]:>12}  paid {how}
      {i["number"]} install {i["total"]:>12}  open: {i["due"]} due, part payments from {minimum}
      As Jane (above), pay part of {i["number"]} with test card 4242 4242 4242 4242
      (POST /api/v1/invoices/{i["id"]}/payments); then, as staff,
      record the rest (AMOUNT in cents) as a bank transfer:
      curl -H 'Host: {host}' -H 'Authorization: Bearer {info["staff_token"]}' \\
           -H 'Idempotency-Key: demo-transfer-1' -H 'Content-Type: application/json' \\
           -d '{body}' \\
           {info["gateway_url"]}/api/v1/invoices/{i["id"]}/offline-payments
"""


def banner(info: dict) -> str:
    token = info["staff_token"]
    contacts = "\n".join(
        f"      {c['email']:<28} {c['password']:<18} client, {c['role']}"
        for c in info["client_logins"]
    )
    return f"""
  Integrator Portal is running.

    Portal (demo integrator):  {info["demo_url"]}
    Staff API token:           {token}
    Captured email:            {info["mail_url"]}
    API docs:                  {info["platform_url"]}/api/docs  (and on the portal, for staff)
    Platform token:            {info["platform_token"]}

    Try:
      curl -H 'Host: {info["demo_host"].split(":")[0]}' \\
           -H 'Authorization: Bearer {token}' {info["gateway_url"]}/api/v1/projects

    Onboard another integrator (its owner's invite lands in the captured email):
      .venv/bin/portal tenants create --slug brightwave --name 'Brightwave AV' \\
           --owner-email sam@brightwave.example

    Sign in at the portal as (email, password):
      {info["staff_email"]:<28} {info["staff_password"]:<18} staff, owner
{contacts}

{_money_lines(info)}
    What to try, as the client (on a phone-size window, too):
      - the status board, then Change orders -> "Second subwoofer": read the
        diff, push back one line; as staff, revise it in the console
        (Projects -> the project -> Change orders) and send; as the client,
        approve revision 2 (a sign-in older than 30 minutes asks you to
        confirm it's you first); then `.venv/bin/portal changeorders verify
        CO-001 --project <reference>` checks the evidence chain.

    Book a visit: sign in as jane.harrison@example.com (a phone-sized window
    is the way she would), Book a visit, pick the Sony projector in the Cinema
    room, a "Projector check" next week; the confirmation email, with its
    calendar entry, lands in the captured email, and Marcus Reed or Priya Shah
    (technicians) have it on the dispatch calendar and in their ICS feed.
    Marcus's Tuesday already holds the rear-speaker install.

  Everything above is also in .data/dev.json. Ctrl-C stops it all.
"""


# -- migrate and dead letters ------------------------------------------------


def _service_env(name: str) -> dict[str, str]:
    """The service's settings: the environment, else what `make run` wrote."""
    prefix = name.upper() + "_"
    if os.environ.get(prefix + "DATABASE_URL"):
        return {k: v for k, v in os.environ.items() if k.startswith(prefix)}
    dev = DATA_DIR / DEV_JSON
    if dev.exists():
        return json.loads(dev.read_text())["services"][name]
    return {}


@contextmanager
def _environ(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def migrate() -> None:
    from services.chassis.migrations import upgrade

    for name in SERVICES:
        url = _service_env(name).get(name.upper() + "_DATABASE_URL")
        if not url:
            print(f"{name}: no {name.upper()}_DATABASE_URL; skipped")
            continue
        upgrade(name, url)
        print(f"{name}: migrated")


def _spec(name: str):
    return importlib.import_module(f"services.{name}.__main__").SPEC


def _settings(name: str):
    """The service's own settings class, as its spec declares it, read from its env."""
    with _environ(_service_env(name)):
        return _spec(name).settings()


async def list_dead_letters(service: str | None) -> None:
    from services.chassis.consumer import list_dead_letters as fetch
    from services.chassis.db import make_engine, make_sessionmaker

    found = 0
    for name in [service] if service else SERVICES:
        settings = _settings(name)
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            for row in await fetch(make_sessionmaker(engine)):
                found += 1
                state = f"replayed {row.replayed_at:%Y-%m-%d %H:%M}" if row.replayed_at else "open"
                print(
                    f"{row.id}  {name:<13} {row.subject:<40} deliveries={row.deliveries} "
                    f"{row.created_at:%Y-%m-%d %H:%M:%S}  {state}\n    {row.error}"
                )
        finally:
            await engine.dispose()
    if not found:
        print("no dead letters")


async def replay(dead_letter_id: str, service: str | None) -> None:
    from services.chassis.consumer import replay_dead_letter
    from services.chassis.runtime import build_consumer, build_deps, close_deps

    for name in [service] if service else SERVICES:
        spec = _spec(name)
        deps = await build_deps(spec, _settings(name))
        try:
            consumer = build_consumer(spec, deps)
            if consumer is None:
                continue
            try:
                applied = await replay_dead_letter(consumer, deps.sessions, dead_letter_id)
            except LookupError:
                continue
            print(
                f"{name}: replayed {dead_letter_id}"
                + ("" if applied else " (it had already been handled; nothing changed)")
            )
            return
        finally:
            await close_deps(deps)
    raise SystemExit(f"no dead letter {dead_letter_id}")


async def rotate_document_keys() -> None:
    """Re-wrap data keys only (the small header of each blob), never the content."""
    from services.chassis.db import make_engine, make_sessionmaker
    from services.documents.__main__ import build_vault
    from services.documents.service import rotate_keys

    settings = _settings("documents")
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        report = await rotate_keys(sessions=make_sessionmaker(engine), vault=build_vault(settings))
    finally:
        await engine.dispose()
    print(
        f"documents: {report.rewrapped} blob(s) re-wrapped under key "
        f"{settings.active_key_id!r}; {report.already_current} already were"
    )


if __name__ == "__main__":
    main()

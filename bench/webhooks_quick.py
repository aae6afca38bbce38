"""`python -m bench.webhooks_quick`: only the webhook ingest of `make bench`
(BENCH_ONLY=payments also runs the HTTP floors), for before/after comparisons
while changing the webhook path (about a minute).

Starts the suite like `make bench` (durable PostgreSQL, payments' bench
settings), seeds it, connects the demo integrator's Stripe account, then runs
bench/payments.py's closed loop (max) and open loop (1,000/s), printing
events/s, ack p50/p99 and server CPU µs per webhook by process. With
`--py-spy DIR` it also records the gateway and payments (speedscope) during an
extra closed-loop window (`--py-spy-mode open`: at 1,000/s); py-spy must be on
PATH (the venv has it). `BENCH_PG_STATEMENTS=1` prints each run's heaviest
statements (bench/pg_statements.py).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import payments, pg_statements
from bench.events import _dsn
from bench.run import PG_SETTINGS
from deploy.cli import seed_and_describe
from deploy.suite import Suite, SuiteOptions

PROFILED = ("gateway", "payments")


def _print(label: str, r: dict) -> None:
    split = ", ".join(
        f"{n} {us:,.0f}"
        for n, us in sorted(r["server_cpu_us_per_req_by_process"].items(), key=lambda kv: -kv[1])
        if us >= 1
    )
    print(
        f"{label}: {r['rps']:,.0f}/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
        f"server CPU {r['server_cpu_us_per_req']:,.0f} µs/webhook ({split}); "
        f"answers {r['statuses']}, unsent {r.get('scheduled_unsent', 0)}, "
        f"other CPU {r.get('other_cpu_pct', 0):.0f}%, load generator {r['loadgen_cpu_pct']:.0f}%",
        flush=True,
    )


def _profile(out: Path, url: str, pids: dict[str, int], mode: str) -> None:
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not on PATH")
    recorders = [
        subprocess.Popen(
            [
                *(spy, "record", "-r", "200", "-d", "8", "-p", str(pids[name])),
                *("--format", "speedscope", "-o", str(out / f"webhook-{name}.json")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in PROFILED
    ]
    payments.run_load(url, mode=mode)
    for r in recorders:
        r.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--modes", default="closed,open", help="closed,open")
    parser.add_argument("--py-spy", type=Path, default=None, help="write profiles here")
    parser.add_argument("--py-spy-mode", default="closed", help="the load profiled: closed|open")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-webhooks-"))
    suite = Suite(
        SuiteOptions(
            data_dir=tmp / "suite",
            log_file=tmp / "suite.log",
            postgres_settings={**PG_SETTINGS, **pg_statements.SETTINGS},
            with_localstripe=False,
            extra_env=payments.ENV,
        )
    )
    try:
        suite.start()
        info = seed_and_describe(suite, tmp / "suite")
        pids = {n: c.proc.pid for n, c in suite.children.items() if c.proc is not None}
        pids["postgres"] = suite.postgres.pid or 0
        pids["nats-server"] = suite.nats.pid or 0
        host = info["demo_host"].split(":")[0]
        payments.connect_account(suite.gateway_url, host, info["staff_token"])
        payments.check_webhook(suite.gateway_url)
        url = f"{suite.gateway_url}{payments.WEBHOOK}"
        for round_ in range(args.rounds):
            for mode in args.modes.split(","):
                pg_statements.reset(suite.postgres.admin_url)
                _print(f"round {round_ + 1} {mode}", payments._loaded(url, pids, mode))
                pg_statements.report(suite.postgres.admin_url, mode, print)
        drain, recorded = asyncio.run(
            payments.drained(_dsn(suite.database_urls["payments"]), info["tenant_id"])
        )
        print(f"after-commit work of {recorded} events drained {drain:.1f} s after", flush=True)
        if args.py_spy is not None:
            args.py_spy.mkdir(parents=True, exist_ok=True)
            _profile(args.py_spy, url, pids, args.py_spy_mode)
            print(f"profiles in {args.py_spy}", flush=True)
    finally:
        suite.stop()
        time.sleep(0.1)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

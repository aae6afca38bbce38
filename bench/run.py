"""`make bench`: the whole suite against its floors, in one run, in about 2 minutes.

1. HTTP `GET /api/v1/projects` through the suite vs (a) a bare FastAPI endpoint
   and (b) a FastAPI endpoint making one grpc.aio call; req/s, p50, p99.
2. Events: stage change committed -> notification handled vs bare JetStream
   publish -> pull consumer on the same nats-server.
3. Bookings (bench/bookings.py): slot search p99 and 100 racing bookings,
   against issue 11's floors.

Writes bench/RESULTS.md and bench/out/*.json; prints the table. Every process it
starts is stopped before it exits (and told to die with it if it is killed).
Exits non-zero, with the suite's log excerpt, if anything answers an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import (
    bookings,
    bookings_report,
    changeorders,
    events,
    pages,
    payments,
    pg_statements,
    procs,
    report,
)
from bench.context import git_commit, machine, strays, suite_log_excerpt
from bench.events import BenchFailure
from bench.http_measure import (
    CONNECTIONS,
    DURATION_S,
    PATH,
    QUIET_WAIT_S,
    WARMUP_S,
    log,
    measure_http,
    measure_pages,
    ratios,
)
from bench.loadgen import Load, find_wrk, run_python, wrk_version
from bench.procs import ROOT, Proc, python_module, wait_for_port
from deploy.cli import seed_and_describe
from deploy.infra import free_port
from deploy.suite import Suite, SuiteOptions

BENCH = ROOT / "bench"
OUT = BENCH / "out"
# Production-like durability (fsync, synchronous_commit and full_page_writes stay
# at their defaults); commit timestamps are recorded so commit -> handled can be
# read back exactly.
PG_SETTINGS = {"track_commit_timestamp": "on"}
# The suite runs in development mode; pages are measured as a deployed gateway
# serves them, without re-reading templates from disk.
GATEWAY_ENV = {"GATEWAY_RELOAD_TEMPLATES": "false"}
# BENCH_ONLY=payments: the HTTP floors and list, then payments only (a partial run:
# printed and kept in bench/out, RESULTS.md untouched).
ONLY_PAYMENTS = os.environ.get("BENCH_ONLY", "") == "payments"
# BENCH_ONLY=changeorders: issue 12's approvals and their floor only; RESULTS.md keeps
# its other sections and gets this one replaced.
ONLY_CO = os.environ.get("BENCH_ONLY", "") == "changeorders"
# BENCH_ONLY=events: the events part only, printed and kept in bench/out (RESULTS.md untouched).
ONLY_EVENTS = os.environ.get("BENCH_ONLY", "") == "events"


# -- the run ------------------------------------------------------------------------


def check_suite(suite: Suite) -> None:
    crashed = suite.crashed()
    if crashed:
        raise BenchFailure(f"suite processes exited during the bench: {', '.join(crashed)}")


def bench(tmp: Path, started: float) -> dict:
    forced = os.environ.get("BENCH_LOADGEN", "").lower()
    wrk = None if forced == "python" else find_wrk(allow_install=True)
    generator = (
        f"{wrk_version(wrk)} (-t1 -c{CONNECTIONS})"
        if wrk
        else f"Python asyncio client (bench/loadgen.py, uvloop, {CONNECTIONS} connections)"
    )
    log(f"load generator: {generator}")
    results: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": git_commit(),
        "command": "make bench",
        "machine": machine(),
        "load_generator": generator,
        "postgres": "default durable settings (fsync, synchronous_commit, full_page_writes "
        "on) + track_commit_timestamp=on",
    }
    suite_dir = tmp / "suite"
    suite_log = tmp / "suite.log"
    suite = Suite(
        SuiteOptions(
            data_dir=suite_dir,
            log_file=suite_log,
            postgres_settings={**PG_SETTINGS, **pg_statements.SETTINGS},
            with_localstripe=False,
            extra_env={**payments.ENV, **GATEWAY_ENV, **events.trace_env(tmp)},
        )
    )
    floors: list[Proc] = []
    started_pids: list[int] = []
    try:
        log("starting the suite: PostgreSQL (durable), NATS, SMTP sink, services, gateway ...")
        try:
            suite.start()
        except Exception as exc:
            raise BenchFailure(f"the suite did not start: {exc}") from exc
        try:
            info = seed_and_describe(suite, suite_dir)
        except Exception as exc:
            raise BenchFailure(
                f"seeding the demo integrator through the services failed: {exc!r}"
            ) from exc
        suite_pids = procs.suite_pids(suite)
        started_pids += suite_pids.values()
        with contextlib.suppress(psutil.Error):
            for pid in suite_pids.values():
                started_pids += [c.pid for c in psutil.Process(pid).children(recursive=True)]
        log(f"suite up: gateway {suite.gateway_url}")

        if ONLY_CO:
            log("change orders: approvals at 50/s vs the composite floor ...")
            pg_statements.reset(suite.postgres.admin_url)
            results["changeorders"] = changeorders.measure(suite, info, tmp, log=log)
            pg_statements.report(suite.postgres.admin_url, "change orders", log)
            check_suite(suite)
        elif ONLY_EVENTS:
            host = info["demo_host"].split(":")[0]
            results["events"] = events.measure(
                suite, info, host, log=log, quiet_s=QUIET_WAIT_S, check=check_suite
            )
        else:
            ports = {kind: free_port() for kind in ("http", "grpc-server", "grpc-http")}

            def floor(name: str, kind: str, *args: str) -> Proc:
                argv = python_module("bench.floors", kind, "--port", str(ports[kind]), *args)
                proc = Proc(name, argv, tmp / f"{name}.log").start()
                floors.append(proc)
                wait_for_port(ports[kind], proc)
                return proc

            bare = floor("floor-fastapi", "http")
            grpc_srv = floor("floor-grpc-server", "grpc-server")
            grpc_http = floor(
                "floor-grpc-http", "grpc-http", "--target", f"127.0.0.1:{ports['grpc-server']}"
            )
            started_pids += [p.pid for p in floors]

            host = info["demo_host"].split(":")[0]
            suite_headers = {"Host": host, "Authorization": f"Bearer {info['staff_token']}"}
            floor_headers = {"Host": host}
            targets = {
                "floor_fastapi": (
                    "(a) floor: bare FastAPI",
                    f"http://127.0.0.1:{ports['http']}{PATH}",
                    floor_headers,
                    {"fastapi": bare.pid},
                ),
                "floor_grpc": (
                    "(b) floor: FastAPI + one grpc.aio call",
                    f"http://127.0.0.1:{ports['grpc-http']}{PATH}",
                    floor_headers,
                    {"fastapi": grpc_http.pid, "grpc-server": grpc_srv.pid},
                ),
                "suite": (
                    "full suite: gateway -> identity -> projects -> PostgreSQL",
                    f"{suite.gateway_url}{PATH}",
                    suite_headers,
                    suite_pids,
                ),
            }
            for label, url, headers, _ in targets.values():
                pages.check_list(label, url, headers)
            http: dict = {
                "connections": CONNECTIONS,
                "warmup_s": WARMUP_S,
                "duration_s": DURATION_S,
                "targets": {},
            }
            for key, (label, url, headers, pids) in targets.items():
                log(f"HTTP: {label} ({WARMUP_S:.0f} s warm-up + {DURATION_S:.0f} s) ...")
                http["targets"][key] = t = measure_http(label, url, headers, pids, wrk)
                log(f"  {t['rps']:,.0f} req/s, p50 {t['p50_ms']:.2f} ms, p99 {t['p99_ms']:.2f} ms")
                if key == "suite":
                    check_suite(suite)
            if wrk:
                log("load-generator check: the Python client against floor (a), 5 s ...")
                label, url, headers, _ = targets["floor_fastapi"]
                run_python(Load(url, headers, CONNECTIONS, 1.0))
                http["loadgen_check"] = run_python(Load(url, headers, CONNECTIONS, 5.0))
            http["ratios"] = {
                k: ratios(http["targets"]["suite"], http["targets"][k])
                for k in ("floor_fastapi", "floor_grpc")
            }
            results["http"] = http
            log("payments: signed webhooks (max, then 1,000/s), the client's invoice ...")
            results["payments"] = payments.measure(
                suite,
                info,
                suite_pids,
                http,
                lambda label, url, headers: measure_http(label, url, headers, suite_pids, wrk),
            )
            check_suite(suite)
            if not ONLY_PAYMENTS:
                results["pages"] = measure_pages(suite, info, host, suite_pids, wrk, http)
            check_suite(suite)
            for p in floors:
                p.stop()

            if not ONLY_PAYMENTS:
                results["events"] = events.measure(
                    suite, info, host, log=log, quiet_s=QUIET_WAIT_S, check=check_suite
                )
            if not ONLY_PAYMENTS:
                log("bookings: seeding 20 technicians and 5,000 work orders in the demo tenant ...")
                results["bookings"] = bookings.measure(suite, info)
                check_suite(suite)
                log(bookings_report.summary(results["bookings"]))
                log("change orders: approvals at 50/s vs the composite floor ...")
                pg_statements.reset(suite.postgres.admin_url)
                results["changeorders"] = changeorders.measure(suite, info, tmp, log=log)
                pg_statements.report(suite.postgres.admin_url, "change orders", log)
                check_suite(suite)
    except BaseException:
        crashed = suite.crashed()
        raise
    else:
        crashed = None
    finally:
        for p in floors:
            p.stop()
        log("stopping the suite ...")
        suite.stop()  # also flushes the children's output into the suite log
        if crashed is not None or sys.exc_info()[0] is not None:
            kept = OUT / f"suite-{time.strftime('%Y%m%d-%H%M%S')}.log"
            with contextlib.suppress(OSError):
                OUT.mkdir(parents=True, exist_ok=True)
                shutil.copy(suite_log, kept)
            exited = ", ".join(crashed or []) or "none"
            print(
                f"\nsuite processes that had exited on their own: {exited}"
                f"\nsuite log excerpt ({suite_log}, copied to {kept}):\n"
                f"{suite_log_excerpt(suite_log)}\n",
                file=sys.stderr,
                flush=True,
            )
        left = strays(started_pids)
        if left:
            message = f"processes the bench started are still running: {left}"
            if sys.exc_info()[0] is None:
                raise BenchFailure(message)
            print(f"bench: {message}", file=sys.stderr, flush=True)
    results["wall_seconds"] = time.monotonic() - started
    return results


def main() -> None:
    # Stopped by SIGTERM as by Ctrl-C: the `with` blocks stop the servers this
    # bench started (PostgreSQL and nats-server were left running otherwise).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    ok = False
    try:
        results = bench(tmp, started)
        ok = True
    except BenchFailure as exc:
        print(f"\nBENCH FAILED: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        print("\nBENCH FAILED (see above)", file=sys.stderr, flush=True)
        sys.exit(1)
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"bench data and logs kept in {tmp}", file=sys.stderr, flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    raw = json.dumps(results, indent=2, default=str)
    if ONLY_EVENTS:
        (OUT / f"events-{stamp}.json").write_text(raw)
        print("\n" + "\n".join(report.events_section(results["events"])), flush=True)
        return
    if ONLY_PAYMENTS:  # partial: printed and kept, RESULTS.md left as the last full run wrote it
        (OUT / f"payments-{stamp}.json").write_text(raw)
        print("\n" + report.render(results), flush=True)
        return
    (OUT / f"results-{stamp}.json").write_text(raw)
    (OUT / "latest.json").write_text(raw)
    text = report.splice(results, BENCH / "RESULTS.md") if ONLY_CO else report.render(results)
    (BENCH / "RESULTS.md").write_text(text)
    print("\n" + text, flush=True)


if __name__ == "__main__":
    main()

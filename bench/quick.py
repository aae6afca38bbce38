"""`python -m bench.quick`: only the two hot targets of `make bench`, for
before/after comparisons while changing the read path (about 1 minute).

Starts the suite like `make bench` (durable PostgreSQL), seeds it, and loads
`GET /api/v1/projects` (staff token) and the client's board page (cookie
session) the same way (32 connections, warm-up, measured window), printing
server CPU µs/req with the per-process split. `--rounds N` repeats both, so
a busy machine's noise shows as spread. With `--py-spy DIR` it also records
each Python service (`py-spy record --format speedscope`) during an extra
window of each target; py-spy must be on PATH (`pip install py-spy`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import pages
from bench.loadgen import Load, find_wrk, run_python, run_wrk
from bench.run import GATEWAY_ENV, PATH, PG_SETTINGS, measure_http
from deploy.cli import seed_and_describe
from deploy.suite import Suite, SuiteOptions

PROFILED = ("gateway", "identity", "projects", "documents")


def _targets(suite: Suite, info: dict) -> dict[str, tuple[str, dict[str, str]]]:
    host = info["demo_host"].split(":")[0]
    cookie = pages.sign_in(suite.gateway_url, host, pages.CLIENT_EMAIL, info["staff_password"])
    board = f"{suite.gateway_url}/projects/{info['demo_project_id']}"
    return {
        "list": (
            f"{suite.gateway_url}{PATH}",
            {"Host": host, "Authorization": f"Bearer {info['staff_token']}"},
        ),
        "board": (board, {"Host": host, "Cookie": cookie}),
        "landing": (f"{suite.gateway_url}/", {"Host": host, "Cookie": cookie}),
        "documents": (f"{board}/documents", {"Host": host, "Cookie": cookie}),
    }


def _profile(out: Path, key: str, url: str, headers: dict, pids: dict, wrk: str | None) -> None:
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not on PATH: pip install py-spy")
    recorders = [
        subprocess.Popen(
            [
                spy,
                "record",
                "-r",
                "200",
                "-d",
                "8",
                "-p",
                str(pids[name]),
                "--format",
                "speedscope",
                "-o",
                str(out / f"{key}-{name}.json"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in PROFILED
    ]
    load = Load(url, headers, 32, 10.0)
    (run_wrk(wrk, load) if wrk else run_python(load))
    for r in recorders:
        r.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--py-spy", type=Path, default=None, help="write profiles here")
    parser.add_argument(
        "--targets", default="list,board", help="comma-separated: list,board,landing,documents"
    )
    args = parser.parse_args()
    wrk = find_wrk(allow_install=False)
    tmp = Path(tempfile.mkdtemp(prefix="portal-quick-"))
    suite = Suite(
        SuiteOptions(
            data_dir=tmp / "suite",
            log_file=tmp / "suite.log",
            postgres_settings=PG_SETTINGS,
            with_localstripe=False,
            extra_env=GATEWAY_ENV,
        )
    )
    try:
        suite.start()
        info = seed_and_describe(suite, tmp / "suite")
        pids = {n: c.proc.pid for n, c in suite.children.items() if c.proc is not None}
        pids["postgres"] = suite.postgres.pid or 0
        wanted = args.targets.split(",")
        targets = {k: v for k, v in _targets(suite, info).items() if k in wanted}
        for round_ in range(args.rounds):
            for key, (url, headers) in targets.items():
                r = measure_http(key, url, headers, pids, wrk, duration_s=args.duration)
                split = ", ".join(
                    f"{n} {us:,.0f}"
                    for n, us in sorted(
                        r["server_cpu_us_per_req_by_process"].items(), key=lambda kv: -kv[1]
                    )
                    if us >= 1
                )
                print(
                    f"round {round_ + 1} {key}: {r['rps']:,.0f} req/s, server CPU "
                    f"{r['server_cpu_us_per_req']:,.0f} µs/req ({split}); other CPU "
                    f"{r.get('other_cpu_pct', 0):.0f}%, errors {r.get('errors', 0)}",
                    flush=True,
                )
        if args.py_spy is not None:
            args.py_spy.mkdir(parents=True, exist_ok=True)
            for key, (url, headers) in targets.items():
                _profile(args.py_spy, key, url, headers, pids, wrk)
            print(f"profiles in {args.py_spy}", flush=True)
    finally:
        suite.stop()
        time.sleep(0.1)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

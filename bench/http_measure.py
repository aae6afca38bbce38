"""Measuring HTTP targets for `make bench` (bench/run.py): one target under
closed-loop load with the server CPU of its processes, the client's pages, and
the cost growth from an empty to a grown tenant."""

from __future__ import annotations

import time
from dataclasses import replace

from bench import events, growth, pages
from bench.events import BenchFailure
from bench.loadgen import Load, run_python, run_wrk
from bench.noise import CpuWindow, wait_quiet
from bench.procs import cpu_seconds
from deploy.suite import Suite

PATH = "/api/v1/projects"
CONNECTIONS = 32
WARMUP_S = 2.0
DURATION_S = 10.0
GROWTH_S = 5.0  # each cost-growth window (empty and grown, three pages each)
# Before each measurement, wait up to this long for other people's processes to
# quieten down (the machine is shared); what they still use is reported.
QUIET_WAIT_S = 10.0


def log(msg: str, t0: float = time.monotonic()) -> None:
    print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True)


# -- HTTP ---------------------------------------------------------------------------


def measure_http(
    label: str,
    url: str,
    headers: dict[str, str],
    pids: dict[str, int],
    wrk: str | None,
    *,
    paths: tuple[str, ...] = (),
    duration_s: float = DURATION_S,
) -> dict:
    """Warm-up, then the measured run; CPU of the target's processes (by name, each
    with its descendants, e.g. PostgreSQL's backends) over the measured run. With
    `paths` (a journey), "per request" is per journey: requests / steps."""
    load = Load(url, headers, CONNECTIONS, duration_s, paths)
    run = (lambda lo: run_wrk(wrk, lo)) if wrk else run_python
    quiet = wait_quiet(QUIET_WAIT_S)
    run(replace(load, duration_s=WARMUP_S))  # warm-up, dropped
    by_name0 = {name: cpu_seconds([pid]) for name, pid in pids.items()}
    with CpuWindow() as window:
        result = run(load)
    by_name = {name: cpu_seconds([pid]) - by_name0[name] for name, pid in pids.items()}
    cpu = sum(by_name.values())
    if result["requests"] == 0:
        raise BenchFailure(f"{label}: no answers at all under load")
    # Errors under load are counted and reported (a busy machine times some
    # out): the bench finishes and says so instead of dying.
    per = max(1, result["requests"] // max(1, len(paths)))
    return {
        "label": label,
        **result,
        "paths": list(paths),
        "server_cpu_s": cpu,
        "server_cpu_us_per_req": 1e6 * cpu / per,
        "server_cpu_us_per_req_by_process": {name: 1e6 * c / per for name, c in by_name.items()},
        "other_cpu_before_pct": quiet,
        **window.as_dict(),
    }


def measure_pages(
    suite: Suite, info: dict, host: str, pids: dict[str, int], wrk: str | None, http: dict
) -> dict:
    """The client's board, landing and documents page; then cost growth: list
    (one item a page), board and documents page, empty vs a grown tenant."""
    cookie = pages.sign_in(suite.gateway_url, host, pages.CLIENT_EMAIL, info["staff_password"])
    client = {"Host": host, "Cookie": cookie}
    staff = {"Host": host, "Authorization": f"Bearer {info['staff_token']}"}
    out: dict = {"targets": {}, "empty": {}, "grown": {}}
    targets = pages.page_targets(info, cookie)
    pages.check_landing(suite.gateway_url, client, targets["board"][1][0])
    for key, (label, paths) in targets.items():
        pages.check_journey(suite.gateway_url, client, paths)
        log(f"pages: {label} ...")
        journey = paths if len(paths) > 1 else ()
        url = f"{suite.gateway_url}{paths[0]}"
        out["targets"][key] = measure_http(label, url, client, pids, wrk, paths=journey)
    floors = http["targets"]
    board = out["targets"]["board"]["server_cpu_us_per_req"]
    out["ratios"] = {
        "board_cpu_vs_grpc_floor": board / floors["floor_grpc"]["server_cpu_us_per_req"],
        "landing_cpu_vs_board": out["targets"]["landing"]["server_cpu_us_per_req"] / board,
    }
    growth_set = {
        "list": ("staff list, one a page", f"{suite.gateway_url}{PATH}?page_size=1", staff),
        "board": ("client's board page", f"{suite.gateway_url}{targets['board'][1][0]}", client),
        "documents": (
            "client's documents page",
            f"{suite.gateway_url}{targets['documents'][1][0]}",
            client,
        ),
    }
    for phase in ("empty", "grown"):
        if phase == "grown":
            log("growth: seeding 1,000 projects, 5,000 documents, 50 customers ...")
            dsn = {n: events._dsn(suite.database_urls[n]) for n in ("projects", "documents")}
            out["seeded"] = growth.seed(dsn["projects"], dsn["documents"], info["tenant_id"])
            out["plans"] = growth.explain(
                dsn,
                info["tenant_id"],
                customer_id=info["demo_customer_id"],
                project_id=info["demo_project_id"],
            )
        for key, (label, url, headers) in growth_set.items():
            log(f"growth ({phase}): {label} ...")
            out[phase][key] = measure_http(
                f"{label} ({phase})", url, headers, pids, wrk, duration_s=GROWTH_S
            )
    out["growth"] = pages.growth_ratios(out["empty"], out["grown"])
    return out


def ratios(suite: dict, floor: dict) -> dict:
    return {
        "rps": suite["rps"] / floor["rps"],
        "p50": suite["p50_ms"] / floor["p50_ms"],
        "p99": suite["p99_ms"] / floor["p99_ms"],
        "cpu": suite["server_cpu_us_per_req"] / floor["server_cpu_us_per_req"],
    }

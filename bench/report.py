"""bench/RESULTS.md from one run's results dict."""

from __future__ import annotations

import math
from pathlib import Path

from bench import events_where, payments
from bench.bookings_report import section as bookings_section
from bench.changeorders_report import section as changeorders_section

NOISY_PCT = 25.0


def _f(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def _x(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.3f}x" if value < 0.1 else f"{value:.2f}x"


def render(r: dict) -> str:
    m = r["machine"]
    h = r["http"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench.run`); see bench/README.md for what is "
        "measured and how to read it. Raw numbers: `bench/out/`.",
        "",
        "| | |",
        "| --- | --- |",
        f"| machine | {m['nproc']} CPUs, {m['cpu_model']}, {m['ram_gib']:.1f} GiB RAM |",
        f"| date | {r['date']} |",
        f"| git commit | {r['git_commit']} |",
        f"| command | `{r['command']}` |",
        f"| load generator | {r['load_generator']} |",
        f"| HTTP load | {h['connections']} keep-alive connections, closed loop, "
        f"{h['warmup_s']:.0f} s warm-up then {h['duration_s']:.0f} s measured, per target |",
        f"| PostgreSQL | {r['postgres']} |",
        f"| bench wall time | {r['wall_seconds']:.0f} s |",
        "",
        "## HTTP: `GET /api/v1/projects`",
        "",
        "| target | req/s | p50 ms | p90 ms | p99 ms | server CPU µs/req "
        "| load-gen CPU | machine busy | other CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in ("floor_fastapi", "floor_grpc", "suite"):
        t = h["targets"][key]
        lines.append(
            f"| {t['label']} | {_f(t['rps'], 0)} | {_f(t['p50_ms'])} | {_f(t['p90_ms'])} "
            f"| {_f(t['p99_ms'])} | {_f(t['server_cpu_us_per_req'], 0)} "
            f"| {t['loadgen_cpu_pct']:.0f}% of a core | {t['machine_busy_pct']:.0f}% of "
            f"{m['nproc'] * 100}% | {t['other_cpu_pct']:.0f}% |"
        )
    errors = [t for t in h["targets"].values() if t["non_2xx"] or t["socket_errors"]]
    lines += [
        f"- {t['label']}: {t['non_2xx']} answers >= 400 and {t['socket_errors']} socket "
        f"errors/timeouts in {t['requests']} requests"
        for t in errors
    ]
    lines += [
        "",
        "Server CPU: user+system time of the target's processes (with PostgreSQL's backends) "
        "over the measured window, per request. Other CPU: CPU used on the machine outside "
        "the bench's own processes during the window, in % of one core.",
        "",
        "Server CPU per request by process (µs):",
        "",
    ]
    for key in ("floor_fastapi", "floor_grpc", "suite"):
        t = h["targets"][key]
        parts = sorted(t["server_cpu_us_per_req_by_process"].items(), key=lambda kv: -kv[1])
        lines.append(f"- {t['label']}: " + ", ".join(f"{name} {_f(us, 0)}" for name, us in parts))
    lines += [
        "",
        "| ratio (full suite / floor) | req/s | p50 | p99 | server CPU per request |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, label in (
        ("floor_fastapi", "suite / (a) bare FastAPI"),
        ("floor_grpc", "suite / (b) FastAPI + one gRPC call"),
    ):
        q = h["ratios"][key]
        lines.append(
            f"| {label} | {_x(q['rps'])} | {_x(q['p50'])} | {_x(q['p99'])} | {_x(q['cpu'])} |"
        )
    suite_cpu = h["targets"]["suite"]["server_cpu_us_per_req"]
    lines += [
        "",
        f"Goals (issue 8): server CPU per request {_f(suite_cpu, 0)} µs (goal <= 2,000: "
        f"{_met(suite_cpu <= 2000)}); req/s {_x(h['ratios']['floor_grpc']['rps'])} floor (b)'s "
        f"(goal >= 0.30x: {_met(h['ratios']['floor_grpc']['rps'] >= 0.30)}).",
    ]
    if h.get("loadgen_check"):
        c = h["loadgen_check"]
        lines += [
            "",
            f"Load-generator check: the Python asyncio client against floor (a) for "
            f"{c['duration_s']:.0f} s gave {_f(c['rps'], 0)} req/s (p50 {_f(c['p50_ms'])} ms, "
            f"p99 {_f(c['p99_ms'])} ms) using {c['loadgen_cpu_pct']:.0f}% of a core, "
            f"vs {_f(h['targets']['floor_fastapi']['rps'], 0)} req/s with wrk.",
        ]
    lines += _pages(r.get("pages"), h, m)
    lines += payments.section(r.get("payments"))
    if not r.get("events"):  # BENCH_ONLY=payments
        lines[2:2] = ["**A partial run (`BENCH_ONLY=payments`): no pages or events.**", ""]
        return "\n".join(lines)
    e = r["events"]
    fl, s = e["floor"], e["suite"]
    lines += events_section(e)
    noisy = [t["other_cpu_pct"] for t in h["targets"].values()]
    if r.get("pages"):
        pg = r["pages"]
        noisy += [t["other_cpu_pct"] for t in pg["targets"].values()]
        noisy += [t["other_cpu_pct"] for ph in ("empty", "grown") for t in pg[ph].values()]
    noisy += [fl["cpu"]["other_cpu_pct"], s["cpu"]["other_cpu_pct"]]
    if r.get("payments"):
        noisy += [r["payments"][k]["other_cpu_pct"] for k in ("max", "target", "invoice")]
    if r.get("bookings"):
        lines += ["", *bookings_section(r["bookings"])]
    lines += changeorders_section(r.get("changeorders"))
    if max(noisy) > NOISY_PCT:
        lines[2:2] = [
            f"**Warning: the machine was shared.** Processes that are not the bench's used up "
            f"to {max(noisy):.0f}% of a core during a measured window (other people's test "
            f"runs); the affected numbers are pessimistic. Re-run on a quiet machine.",
            "",
        ]
    return "\n".join(lines)


def events_section(e: dict) -> list[str]:
    """Stage change committed -> handled vs the JetStream floor (also what
    `BENCH_ONLY=events` prints)."""
    fl = e["floor"]
    s = e["suite"]
    base = fl["publish_to_handled"]

    def row(label: str, st: dict, ratio: bool) -> str:
        rp50 = _x(st["p50_ms"] / base["p50_ms"]) if ratio else ""
        rp99 = _x(st["p99_ms"] / base["p99_ms"]) if ratio else ""
        return (
            f"| {label} | {st['n']} | {_f(st['p50_ms'])} | {_f(st['p90_ms'])} "
            f"| {_f(st['p99_ms'])} | {_f(st['max_ms'])} | {rp50} | {rp99} |"
        )

    return [
        "",
        "## Events: stage change committed -> notification handled",
        "",
        f"Floor: bare JetStream publish -> durable pull consumer in another process, "
        f"{fl['count']} messages at {fl['rate_per_s']:.0f}/s on the suite's nats-server. "
        f"Suite: {s['moves']} stage moves ({s['projects']} projects x 4 steps) through "
        f"`POST /api/v1/projects/{{id}}/stage` at {s['rate_per_s']:.0f}/s "
        f"({s['drive_seconds']:.1f} s), each handled by notifications "
        f"({'/'.join(map(str, s['emails_per_event']))} emails per event).",
        "",
        "| measurement | n | p50 ms | p90 ms | p99 ms | max ms | p50 / floor | p99 / floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        row("**floor**: JetStream publish -> pull consumer handled", base, False),
        row("floor: JetStream publish with ack", fl["publish_with_ack"], False),
        row(
            "**suite**: `email.created_at - outbox_message.created_at` "
            "(handler tx start - producer tx start)",
            s["start_to_start"],
            True,
        ),
        row(
            "**suite**: handler commit - producer commit (commit timestamps)",
            s["commit_to_commit"],
            True,
        ),
        row("  of which: producer transaction (start -> commit)", s["producer_tx"], False),
        row("  of which: producer commit -> relay pass starts", s["commit_to_relay"], False),
        row("  of which: relay pass start -> handler tx start", s["relay_to_handler_start"], False),
        row("  of which: handler transaction (start -> commit)", s["handler_tx"], False),
        row("suite: the stage POST as the client saw it (HTTP)", s["http_stage_post"], False),
        "",
        f"Stage moves answered 2xx: {s.get('ok_moves', s['moves'])} of {s['moves']}"
        + (
            f" (others by status: {s['failed_by_status']}; first: {s['first_failure'][:200]})"
            if s.get("failed_by_status")
            else ""
        )
        + f"; handled and read back: {s['events']}"
        + (f", {s['unhandled']} not handled within 30 s" if s.get("unhandled") else "")
        + ".",
        "",
        f"Other CPU on the machine (not the bench's processes): "
        f"{fl['cpu']['other_cpu_pct']:.0f}% of a core during the floor, "
        f"{s['cpu']['other_cpu_pct']:.0f}% during the suite run.",
        *events_where.section(s.get("where")),
        "",
    ]


def _row(t: dict, nproc: int) -> str:
    return (
        f"| {t['label']} | {_f(t['rps'], 0)} | {_f(t['p50_ms'])} | {_f(t['p99_ms'])} "
        f"| {_f(t['server_cpu_us_per_req'], 0)} | {t['non_2xx'] + t['socket_errors']} "
        f"| {t['machine_busy_pct']:.0f}% of {nproc * 100}% | {t['other_cpu_pct']:.0f}% |"
    )


def _pages(pg: dict | None, h: dict, m: dict) -> list[str]:
    if not pg:
        return []
    head = [
        "| target | req/s | p50 ms | p99 ms | server CPU µs/req | errors | machine busy "
        "| other CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    q = pg["ratios"]
    board_cpu = pg["targets"]["board"]["server_cpu_us_per_req"]
    out = [
        "",
        "## Pages: the signed-in client (cookie session)",
        "",
        "The landing is `/` for a returning client with one project: it renders that "
        "project's board in the same request (checked before load: same page as the board).",
        "",
        *head,
        *(_row(t, m["nproc"]) for t in pg["targets"].values()),
        "",
        f"- board page CPU / floor (b) CPU: {_x(q['board_cpu_vs_grpc_floor'])}",
        f"- board page server CPU per request: {_f(board_cpu, 0)} µs (goal <= 3,000: "
        f"{_met(board_cpu <= 3000)})",
        f"- landing CPU / board page CPU: {_x(q['landing_cpu_vs_board'])} (goal <= 1.2x: "
        f"{_met(q['landing_cpu_vs_board'] <= 1.2)})",
        "",
        "Server CPU per request by process (µs):",
        "",
    ]
    for t in pg["targets"].values():
        parts = sorted(t["server_cpu_us_per_req_by_process"].items(), key=lambda kv: -kv[1])
        out.append(f"- {t['label']}: " + ", ".join(f"{n} {_f(us, 0)}" for n, us in parts[:5]))
    seeded = pg.get("seeded", {})
    out += [
        "",
        "## Cost growth: empty tenant vs "
        f"{seeded.get('projects', 0):,} projects, {seeded.get('documents', 0):,} documents, "
        f"{seeded.get('customers', 0)} customers",
        "",
        *head,
        *(_row(t, m["nproc"]) for ph in ("empty", "grown") for t in pg[ph].values()),
        "",
        "| page | grown / empty server CPU per request (goal <= 1.2x) |",
        "| --- | ---: |",
        *(f"| {k} | {_x(v)} |" for k, v in pg["growth"].items()),
        "",
        "Plans of the hot queries on the grown tenant (EXPLAIN, under RLS):",
        "",
    ]
    for label, plan in pg.get("plans", {}).items():
        out += [f"- {label}:", "", "  ```", *(f"  {ln}" for ln in plan), "  ```", ""]
    return out


CO_HEADING = "## Change orders"


def splice(r: dict, path: Path) -> str:
    """A `BENCH_ONLY=changeorders` run: RESULTS.md as it was, with its change-order
    section (from its heading to the next one) replaced by this run's, dated."""
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    mine = changeorders_section(r.get("changeorders"))
    facts = (
        f"Partial run (`BENCH_ONLY=changeorders make bench`) at {r['date']}, commit "
        f"{r['git_commit']}; the other sections are from the last full run."
    )
    text = "\n".join([mine[1], "", facts, *mine[2:]]) + "\n"
    start = old.find(CO_HEADING)
    if start < 0:
        return old.rstrip("\n") + "\n\n" + text
    nxt = old.find("\n## ", start + 1)
    return old[:start] + text + (old[nxt + 1 :] if nxt >= 0 else "")

"""bench/bookings.py's numbers as the run's log line and RESULTS.md section."""

from __future__ import annotations

from collections.abc import Callable

from bench.bookings import (
    DAYS,
    FLOOR_RACE_S,
    FLOOR_SLOTS_P99_MS,
    TECHNICIANS,
    WARMUP_CALLS,
    WORK_ORDERS,
)


def summary(out: dict) -> str:
    s, r = out["slots"], out["race"]
    return (
        f"  slots p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms "
        f"({s['server_cpu_us_per_call']:,.0f} µs server CPU/call); "
        f"race: {r['won']} won, all {r['racers']} answered in {r['all_answered_s']:.2f} s"
    )


def section(out: dict) -> list[str]:
    """bench/RESULTS.md's bookings part."""
    s, r = out["slots"], out["race"]

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    refused = ", ".join(f"{n} {code}" for code, n in sorted(r["refused"].items())) or "none"
    return [
        "## Bookings: slot search and racing bookings (issue 11)",
        "",
        f"The suite's bookings process over gRPC, as the demo client (Jane): {TECHNICIANS} "
        f"technicians, {WORK_ORDERS:,} one-hour work orders around now (seeded in "
        f"{out['seed_s']:.0f} s), `ListSlots` for {DAYS} days ({s['slots_per_answer']} slots "
        f"an answer), {s['calls']} sequential calls after {WARMUP_CALLS} warm-up.",
        "",
        "| measure | p50 ms | p90 ms | p99 ms | max ms | server CPU µs/call | floor | |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        f"| slot search, {DAYS} days | {s['p50_ms']:.1f} | {s['p90_ms']:.1f} "
        f"| {s['p99_ms']:.1f} | {s['max_ms']:.1f} | {s['server_cpu_us_per_call']:,.0f} "
        f"| p99 <= {FLOOR_SLOTS_P99_MS:.0f} ms | {met(s['met'])} |",
        "",
        f"{r['racers']} concurrent `BookVisit`s of one slot only one technician can take: "
        f"{r['won']} booked, refused: {refused}; all answered in "
        f"{r['all_answered_s']:.2f} s (floor <= {FLOOR_RACE_S:.0f} s: {met(r['met'])}).",
        "",
        *_gateway_race(out.get("gateway_race"), met),
        "Server CPU: the bookings process and PostgreSQL's backends over the calls. "
        "`python -m bench.bookings_local --py-spy DIR` repeats both without the suite and "
        "profiles the slot search.",
    ]


def _gateway_race(g: dict | None, met: Callable[[bool], str]) -> list[str]:
    """The same race through the gateway as the demo client (one HTTP client a racer)."""
    if not g:
        return []
    statuses = ", ".join(f"{n}x {code}" for code, n in sorted(g["statuses"].items()))
    per_loser = ", ".join(f"{p} {us:,} µs" for p, us in g["loser_cpu_us"].items() if us)
    return [
        f"Through the gateway (`POST /api/v1/bookings` as the demo client, {g['racers']} racers): "
        f"{statuses}; {g['losers_slot_taken']} refusals name `slot_taken`; all answered in "
        f"{g['all_answered_s']:.2f} s (floor <= {FLOOR_RACE_S:.0f} s: {met(g['met'])}). "
        f"Server CPU per loser: {per_loser}.",
        "",
    ]

"""bench/changeorders.py's numbers as RESULTS.md's change-order section."""

from __future__ import annotations

from bench.changeorders import GOAL_P50_X, GOAL_P99_X


def section(c: dict | None) -> list[str]:
    if not c:
        return []
    from bench.report import _f, _met, _x

    fl, s, q = c["floor"], c["suite"], c["ratios"]
    base = fl["all_committed"]

    def row(label: str, st: dict, ratio: bool = True) -> str:
        r50 = _x(st["p50_ms"] / base["p50_ms"]) if ratio else ""
        r99 = _x(st["p99_ms"] / base["p99_ms"]) if ratio else ""
        return (
            f"| {label} | {st['n']} | {_f(st['p50_ms'])} | {_f(st['p90_ms'])} "
            f"| {_f(st['p99_ms'])} | {_f(st['max_ms'])} | {r50} | {r99} |"
        )

    ok = q["p50"] <= GOAL_P50_X and q["p99"] <= GOAL_P99_X
    return [
        "",
        "## Change orders: approved -> budget, invoice schedule, work orders, notification",
        "",
        f"{c['count']} approvals at {c['rate_per_s']:.0f}/s open loop (`POST "
        "/api/v1/change-orders/{id}/approve`, Jane's fresh session), each on its own project "
        "(accepted proposal, payment plan, install work order). Latency = the last of the four "
        "consumers' commits (commit timestamps) - the approval's scheduled start. Floor: "
        "bare FastAPI -> grpc.aio -> one asyncpg transaction (row + outbox row + NOTIFY) -> "
        "relay -> JetStream -> durable pull consumer committing a row in another database, "
        "same rate and count, same run (bench/changeorders_floor.py). The notification "
        'counts as committed when its consumer commits the emails ("notification queued", '
        "its inbox row): the goal's figure. \"notifications committed\" is its email rows' "
        "latest commit, the mailer's once it has sent them (mail is held MAIL_HOLD_SECONDS, "
        "1 s, by design, to keep a project's mail in order).",
        "",
        "| measurement | n | p50 ms | p90 ms | p99 ms | max ms | p50 / floor | p99 / floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        row("**floor**: HTTP start -> consumer commit", base, False),
        row("floor: HTTP answer", fl["http"], False),
        *(
            [row("**suite**: approval start -> all four committed", s["all_committed_queued"])]
            if "all_committed_queued" in s
            else []
        ),
        *(row(f"  {n} committed", st) for n, st in s["by_consumer"].items()),
        row("suite: all four, the notification sent (after the 1 s hold)", s["all_committed"]),
        row("suite: approve answered (HTTP)", s["http"], False),
        row("suite: sends that started late (client)", s["late"], False),
        "",
        f"Approvals answered 2xx: {s['ok']} of {s['sent']} (by status {s['statuses']})"
        + (f"; first failure: {s['first_failure'][:200]}" if s["first_failure"] else "")
        + f"; approved but not committed by all four within 60 s: {s['incomplete']}. Floor: "
        f"{fl['ok']} of {fl['sent']} answered 2xx, {fl['incomplete']} not consumed.",
        "",
        f"Goal (issue 12): p50 <= {GOAL_P50_X:.0f}x and p99 <= {GOAL_P99_X:.0f}x the floor: "
        f"p50 {_x(q['p50'])}, p99 {_x(q['p99'])} ({_met(ok)}). Other CPU on the machine: "
        f"{fl['cpu']['other_cpu_pct']:.0f}% of a core during the floor, "
        f"{s['cpu']['other_cpu_pct']:.0f}% during the suite run (machine busy "
        f"{s['cpu']['machine_busy_pct']:.0f}%).",
        *_cpu(s),
    ]


def _cpu(s: dict) -> list[str]:
    if not s.get("server_cpu_ms_per_approval"):
        return []
    lines = [
        "",
        f"Server CPU per approval (first send until all four committed, / the "
        f"{s.get('approved', '?')} approvals changeorders committed, answered 2xx or not): "
        + _by_process(s, "server_cpu_ms_per_approval"),
    ]
    # The certificates are drawn in a niced child and filed after the four commits
    # under load: until they are filed too is what an approval costs in all.
    if s.get("server_cpu_ms_per_approval_filed"):
        lines += [
            "",
            f"Until the {s['certificates_filed']} certificates were filed as well: "
            + _by_process(s, "server_cpu_ms_per_approval_filed"),
        ]
    return lines


def _by_process(s: dict, key: str) -> str:
    parts = ", ".join(f"{name} {ms:,.2f}" for name, ms in s[key].items() if ms >= 0.05)
    return f"**{s[key + '_total']:,.1f} ms**: {parts}."

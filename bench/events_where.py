"""Where an event's time goes, per consumer it reaches: the events bench's
second look, beside its notifications read-back (bench/events.py).

From the databases (always): each consumer's processed_event row for the
bench's stage changes (its handler transaction's start, `processed_at`, and
its commit timestamp), against the producer's commit and the relay pass.

From the consumers' own spans (`BENCH_TRACE=1`): the suite then writes every
span to a JSON-lines file per process (chassis telemetry's PORTAL_TRACE_FILE;
synchronous, so that run's latencies are a little worse), and each consumer's
`<subject> process` span says how old the message was when fetched
(JetStream's stored time -> fetch), how long it waited behind the earlier
messages of its batch, and, by its duration, how long its handler took.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg

from bench.procs import cpu_seconds
from bench.stats import summary

# The services that consume projects.project.stage_changed (their handlers lists).
STAGE_CONSUMERS = ("notifications", "payments", "bookings")
TRACED = os.environ.get("BENCH_TRACE", "") == "1"


def trace_env(tmp: Path) -> dict[str, str]:
    """The suite's extra environment for BENCH_TRACE=1 (none otherwise)."""
    return {"PORTAL_TRACE_FILE": str(tmp / "trace-{service}.jsonl")} if TRACED else {}


def process_cpu(suite) -> dict[str, float]:
    """CPU seconds so far of each suite process (PostgreSQL with its backends)."""
    pids = {n: c.proc.pid for n, c in suite.children.items() if c.proc is not None}
    pids["postgres"] = suite.postgres.pid or 0
    return {name: cpu_seconds([pid]) for name, pid in pids.items()}


def cpu_per_move(before: dict[str, float], after: dict[str, float], moves: int) -> dict:
    """CPU ms per stage move by process over the suite window (which also holds
    the 75 projects' creation and whatever mail the mailer sent meanwhile)."""
    spent = {n: 1000 * (after[n] - before[n]) / max(1, moves) for n in before if n in after}
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


def _ms(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() * 1000


async def by_consumer(
    dsns: dict[str, str], tenant_id: str, events: dict[uuid.UUID, dict]
) -> dict[str, dict]:
    """Per consumer: relay pass -> its handler starts, its handler transaction,
    and producer commit -> its commit, over the events it handled."""
    out: dict[str, dict] = {}
    ids = list(events)
    for consumer in STAGE_CONSUMERS:
        conn = await asyncpg.connect(dsns[consumer])
        try:
            await conn.execute("SELECT set_config('app.tenant_id', $1, false)", tenant_id)
            rows = await conn.fetch(
                "SELECT event_id, processed_at, pg_xact_commit_timestamp(xmin) AS committed"
                " FROM processed_event WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
                consumer,
                ids,
            )
        finally:
            await conn.close()
        seen = [(events[r["event_id"]], r) for r in rows if r["committed"] is not None]
        seen = [(e, r) for e, r in seen if e["relay_start"] is not None]
        out[consumer] = {
            "handled": len(seen),
            "relay_to_handler_start": summary(
                [_ms(e["relay_start"], r["processed_at"]) for e, r in seen]
            ),
            "handler_tx": summary([_ms(r["processed_at"], r["committed"]) for _e, r in seen]),
            "commit_to_commit": summary(
                [_ms(e["producer_commit"], r["committed"]) for e, r in seen]
            ),
        }
    return out


def _span_ms(span: dict) -> float:
    start = datetime.fromisoformat(span["start_time"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(span["end_time"].replace("Z", "+00:00"))
    return _ms(start, end)


def from_spans(tmp: Path, subject: str, ids: set[str]) -> dict[str, dict]:
    """Per consumer, from its process spans of the bench's events: age at fetch,
    wait in its batch, handler (the span: inbox row, handler, commit), and the
    handler's calls out (its child spans, e.g. gRPC to identity) by name."""
    wanted = f"{subject} process"
    spans = [
        json.loads(line)
        for path in sorted(tmp.glob("trace-*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    seen: dict[str, dict[str, list[float]]] = {}
    parents: dict[str, str] = {}  # process span id -> consumer
    for span in spans:
        attrs = span.get("attributes", {})
        if span.get("name") != wanted or attrs.get("messaging.message.id") not in ids:
            continue
        consumer = attrs["messaging.consumer.group.name"]
        parents[span["context"]["span_id"]] = consumer
        mine = seen.setdefault(consumer, {"age_at_fetch": [], "batch_wait": [], "handler": []})
        mine["handler"].append(_span_ms(span))
        if "portal.message.age_at_fetch_ms" in attrs:
            mine["age_at_fetch"].append(attrs["portal.message.age_at_fetch_ms"])
            mine["batch_wait"].append(attrs["portal.message.batch_wait_ms"])
    for span in spans:
        consumer = parents.get(span.get("parent_id") or "")
        if consumer is not None:
            seen[consumer].setdefault(f"call {span['name']}", []).append(_span_ms(span))
    return {c: {k: summary(v) for k, v in parts.items()} for c, parts in sorted(seen.items())}


def section(where: dict | None) -> list[str]:
    """The report's lines for it (nothing when the run had none)."""
    if not where:
        return []

    def row(label: str, st: dict) -> str:
        ms = " | ".join(f"{st[k]:.1f}" for k in ("p50_ms", "p90_ms", "p99_ms"))
        return f"| {label} | {st['n']} | {ms} |"

    lines = []
    if where.get("cpu_ms_per_move"):
        parts = ", ".join(f"{n} {ms:.1f}" for n, ms in where["cpu_ms_per_move"].items())
        lines += ["", f"CPU per stage move by process (ms, over the suite window): {parts}."]
    lines += [
        "",
        "Per consumer of `projects.project.stage_changed` (processed_event read back):",
        "",
        "| consumer: measurement | n | p50 ms | p90 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for consumer, m in where["db"].items():
        lines += [
            row(f"{consumer}: producer commit -> handler commit", m["commit_to_commit"]),
            row(f"{consumer}: relay pass -> handler tx start", m["relay_to_handler_start"]),
            row(f"{consumer}: handler transaction", m["handler_tx"]),
        ]
    for consumer, m in (where.get("spans") or {}).items():
        lines += [
            row(f"{consumer} (span): age at fetch (JetStream stored -> fetch)", m["age_at_fetch"]),
            row(f"{consumer} (span): wait behind its batch", m["batch_wait"]),
            row(f"{consumer} (span): handler (inbox, handler, commit)", m["handler"]),
            *(row(f"{consumer} (span): {k}", st) for k, st in m.items() if k.startswith("call ")),
        ]
    return lines

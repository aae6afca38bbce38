"""Payments in `make bench`: Stripe's webhook ingest, and an invoice read by
the client (there is no pay page on main yet: `GET /api/v1/invoices/{id}`,
the call the pay page would make, with her session cookie).

Webhooks: `POST /api/v1/stripe/webhook` with events built and signed exactly
as Stripe builds and signs them (`Stripe-Signature: t=..,v1=HMAC-SHA256`), on
the demo integrator's connected account (`account`, routed by payments'
table), `payment_intent.succeeded`, half naming a payment of ours in the intent's
metadata (payments' consumer does the after-commit work: it looks the payment
up, finds none, marks the event processed) and half not (the integrator's
other Stripe business: recorded processed at once), one in ten a redelivery
of an earlier one (the dedupe path). Two runs:

- **max**: closed loop, 32 keep-alive connections, 2 s warm-up + 10 s;
  events/s, ack latency, server CPU per event;
- **at target**: open loop at 1,000 events/s for 10 s (each send scheduled on
  an absolute clock; the latency counts from the scheduled time, so a late
  send is not hidden), up to 64 connections; ack p50/p99, whether it kept up.

Then the after-commit work is waited for (every new event processed by
payments' consumer) and its drain time reported. The load generator is this
module (`python -m bench.payments load ...`), its own process, so its CPU is
its own: it signs each event as it sends it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import httpx

from bench.events import BenchFailure
from bench.procs import ROOT

WEBHOOK = "/api/v1/stripe/webhook"
ACCOUNT = "acct_1BenchAcme0000"  # the demo integrator's connected account in the bench
SECRET = "whsec_bench_portal"  # noqa: S105 - the bench's own endpoint secret
# payments needs a Stripe key to take webhooks; nothing measured calls Stripe.
ENV = {
    "PAYMENTS_STRIPE_API_KEY": "sk_test_bench",
    "PAYMENTS_STRIPE_WEBHOOK_SECRET": SECRET,
    "PAYMENTS_STRIPE_API_BASE": "http://127.0.0.1:9",  # discard: a call would fail fast
}
CONNECTIONS, OPEN_CONNECTIONS = 32, 64
TARGET_RATE, TARGET_P99_MS = 1_000.0, 20.0
REPEAT_EVERY = 10  # one in ten is a redelivery
LATE_S = 5.0  # open loop: sends still due this long after the window ends are dropped


# -- the events -----------------------------------------------------------------------


class Events:
    """Signed Stripe events, each new one built and signed when it is sent."""

    def __init__(self, run: str, host: str) -> None:
        self.run, self.host, self.n = run, host, 0
        self.recent: list[bytes] = []

    def next(self) -> bytes:
        self.n += 1
        if self.n % REPEAT_EVERY == 0 and self.recent:
            return self.recent[len(self.recent) // 2]  # the same delivery again
        t = int(time.time())
        body = json.dumps(
            {
                "id": f"evt_bench{self.run}{self.n:08d}",
                "object": "event",
                "api_version": "2025-03-31.basil",
                "account": ACCOUNT,
                "created": t,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": "payment_intent.succeeded",
                "data": {
                    "object": {
                        "id": f"pi_bench{self.run}{self.n:08d}",
                        "object": "payment_intent",
                        "amount": 50_000,
                        "amount_received": 50_000,
                        "currency": "usd",
                        "status": "succeeded",
                        "created": t,
                        "livemode": False,
                        "payment_method_types": ["card"],
                        "latest_charge": f"ch_bench{self.run}{self.n:08d}",
                        # Half are ours (our payment named, as StartPayment does: payments'
                        # consumer looks it up after the answer), half the integrator's
                        # other Stripe business (recorded, nothing follows).
                        "metadata": {"payment_id": str(uuid.uuid4())} if self.n % 2 else {},
                    }
                },
            },
            separators=(",", ":"),
        ).encode()
        mac = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        request = (
            f"POST {WEBHOOK} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json; charset=utf-8\r\n"
            f"Stripe-Signature: t={t},v1={mac}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.recent = [*self.recent[-19:], request]
        return request


async def _answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return int(head[9:12])


async def _load(url: str, *, mode: str, conns: int, rate: float, warmup: float, seconds: float):
    parts = urlsplit(url)
    events = Events(str(int(time.time() * 1000) % 10**7), "127.0.0.1")
    lat: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2
    measure_from, stop_at = t0 + warmup, t0 + warmup + seconds
    counter = iter(range(10**9))
    sent = [0]  # every answer, the warm-up's too (server CPU is read over both)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while True:
            if mode == "open":
                scheduled = t0 + next(counter) / rate
                # A server that fell behind: what it never got to is not sent late.
                if scheduled >= stop_at or loop.time() >= stop_at + LATE_S:
                    break
                await asyncio.sleep(max(0.0, scheduled - loop.time()))
            else:
                scheduled = loop.time()
                if scheduled >= stop_at:
                    break
            writer.write(events.next())
            status = await _answer(reader)
            sent[0] += 1
            if scheduled >= measure_from:
                lat.append(loop.time() - scheduled)
                statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    cpu0 = time.process_time()
    await asyncio.gather(*(worker() for _ in range(conns)))
    lat.sort()
    n = len(lat)

    def pct(p: float) -> float:
        return 1000 * lat[min(n - 1, int(p / 100 * n))] if n else float("nan")

    return {
        "mode": mode,
        "connections": conns,
        "offered_rate": rate if mode == "open" else None,
        "duration_s": seconds,
        "requests": n,
        "rps": n / seconds,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": 1000 * lat[-1] if n else float("nan"),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "answered_with_warmup": sent[0],
        "scheduled_unsent": max(0, int(rate * (warmup + seconds)) - sent[0])
        if mode == "open"
        else 0,
        "loadgen_cpu_pct": 100 * (time.process_time() - cpu0) / (warmup + seconds),
    }


def run_load(url: str, *, mode: str, warmup: float = 2.0, seconds: float = 10.0) -> dict:
    """The load generator in its own process; its JSON answer."""
    conns = OPEN_CONNECTIONS if mode == "open" else CONNECTIONS
    argv = [sys.executable, "-m", "bench.payments", "load", "--url", url, "--mode", mode]
    argv += ["--connections", str(conns), "--rate", str(TARGET_RATE)]
    argv += ["--warmup", str(warmup), "--duration", str(seconds)]
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, check=False, timeout=seconds + 120
    )
    if done.returncode != 0:
        raise BenchFailure(f"the webhook load generator failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- set-up and checks -----------------------------------------------------------------------


def connect_account(gateway_url: str, host: str, token: str) -> None:
    """The demo integrator's Stripe account, so events naming it reach its tenant."""
    r = httpx.patch(
        f"{gateway_url}/api/v1/payment-settings",
        headers={"Host": host, "Authorization": f"Bearer {token}"},
        json={"stripe_account_id": ACCOUNT},
        trust_env=False,
        timeout=60,
    )
    if r.status_code != 200:
        raise BenchFailure(f"connecting the bench's Stripe account answered {r.status_code}")


def check_webhook(gateway_url: str) -> None:
    """One delivery, then the same again: 200, then 200 and a duplicate."""
    request = Events("check", "127.0.0.1").next()
    head, body = request.split(b"\r\n\r\n", 1)
    headers = dict(
        line.decode().split(": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line
    )
    headers.pop("Content-Length", None)
    with httpx.Client(base_url=gateway_url, trust_env=False, timeout=60) as c:
        first = c.post(WEBHOOK, content=body, headers=headers)
        again = c.post(WEBHOOK, content=body, headers=headers)
    if first.status_code != 200 or not again.json().get("duplicate"):
        raise BenchFailure(f"the webhook answered {first.status_code}: {first.text[:300]}")


async def drained(dsn: str, tenant_id: str, *, timeout: float = 120.0) -> tuple[float, int]:
    """Seconds until payments' consumer has processed every recorded event (and how many)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    started = time.monotonic()
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
            total = await conn.fetchval("SELECT count(*) FROM stripe_event")
        while time.monotonic() - started < timeout:
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
                left = await conn.fetchval(
                    "SELECT count(*) FROM stripe_event WHERE processed_at IS NULL"
                )
            if left == 0:
                return time.monotonic() - started, total
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    raise BenchFailure(f"payments' consumer still had {left} webhook(s) to process")


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    from bench.procs import cpu_seconds

    return {name: cpu_seconds([pid]) for name, pid in pids.items()}


def _loaded(url: str, pids: dict[str, int], mode: str) -> dict:
    """One load run with the suite's CPU over all of it (warm-up included), per answer."""
    from bench.noise import CpuWindow, wait_quiet

    quiet = wait_quiet(10.0)
    before = _cpu(pids)
    with CpuWindow() as window:
        result = run_load(url, mode=mode)
    used = {name: c - before[name] for name, c in _cpu(pids).items()}
    per = max(1, result["answered_with_warmup"])
    return {
        **result,
        "server_cpu_us_per_req": 1e6 * sum(used.values()) / per,
        "server_cpu_us_per_req_by_process": {n: 1e6 * c / per for n, c in used.items()},
        "other_cpu_before_pct": quiet,
        **window.as_dict(),
    }


def measure(suite, info: dict, pids: dict[str, int], http: dict, read_invoice) -> dict:
    """Webhooks (max, then at target), their after-commit drain, and the client's
    invoice read (`read_invoice(label, url, headers)`: bench.run's measure_http)."""
    from bench import pages
    from bench.events import _dsn

    host = info["demo_host"].split(":")[0]
    connect_account(suite.gateway_url, host, info["staff_token"])
    check_webhook(suite.gateway_url)
    url = f"{suite.gateway_url}{WEBHOOK}"
    out: dict = {"max": _loaded(url, pids, "closed"), "target": _loaded(url, pids, "open")}
    out["drain_s"], out["recorded"] = asyncio.run(
        drained(_dsn(suite.database_urls["payments"]), info["tenant_id"])
    )
    cookie = pages.sign_in(suite.gateway_url, host, pages.CLIENT_EMAIL, info["staff_password"])
    invoice = info["demo_invoices"]["install"]["id"]
    out["invoice"] = read_invoice(
        "client's invoice: GET /api/v1/invoices/{id}",
        f"{suite.gateway_url}/api/v1/invoices/{invoice}",
        {"Host": host, "Cookie": cookie},
    )
    floor = http["targets"]["floor_grpc"]
    out["ratios"] = {
        "webhook_rps_vs_grpc_floor": out["max"]["rps"] / floor["rps"],
        "webhook_cpu_vs_grpc_floor": out["max"]["server_cpu_us_per_req"]
        / floor["server_cpu_us_per_req"],
        "invoice_rps_vs_grpc_floor": out["invoice"]["rps"] / floor["rps"],
        "invoice_cpu_vs_grpc_floor": out["invoice"]["server_cpu_us_per_req"]
        / floor["server_cpu_us_per_req"],
    }
    return out


def section(p: dict | None) -> list[str]:
    """RESULTS.md's payments part."""
    if not p:
        return []
    from bench.report import _f, _met, _x

    def row(label: str, t: dict) -> str:
        return (
            f"| {label} | {_f(t['rps'], 0)} | {_f(t['p50_ms'])} | {_f(t['p99_ms'])} "
            f"| {_f(t['server_cpu_us_per_req'], 0)} | {t.get('statuses', t.get('non_2xx'))} "
            f"| {t['other_cpu_pct']:.0f}% |"
        )

    mx, tg, r = p["max"], p["target"], p["ratios"]
    kept_up = tg["rps"] >= 0.98 * TARGET_RATE
    top = sorted(mx["server_cpu_us_per_req_by_process"].items(), key=lambda kv: -kv[1])[:4]
    return [
        "",
        "## Payments: Stripe webhook ingest, and the client's invoice",
        "",
        "Signed `payment_intent.succeeded` events on the demo integrator's connected account "
        "(one in ten a redelivery) to `POST /api/v1/stripe/webhook`; see bench/README.md.",
        "",
        "| target | req/s | p50 ms | p99 ms | server CPU µs/req | answers | other CPU |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
        row(f"webhooks, max (closed loop, {mx['connections']} connections)", mx),
        row(f"webhooks at {TARGET_RATE:,.0f}/s (open loop)", tg),
        row(p["invoice"]["label"], p["invoice"]),
        "",
        f"Webhooks vs floor (b): req/s {_x(r['webhook_rps_vs_grpc_floor'])}, CPU per request "
        f"{_x(r['webhook_cpu_vs_grpc_floor'])}; the invoice read: req/s "
        f"{_x(r['invoice_rps_vs_grpc_floor'])}, CPU {_x(r['invoice_cpu_vs_grpc_floor'])}. "
        f"CPU per webhook by process: " + ", ".join(f"{n} {_f(c, 0)} µs" for n, c in top) + ".",
        "",
        f"Goal (issue 10): >= {TARGET_RATE:,.0f} events/s with ack p99 <= "
        f"{TARGET_P99_MS:.0f} ms. Max {_f(mx['rps'], 0)}/s "
        f"({_met(mx['rps'] >= TARGET_RATE)}); at {TARGET_RATE:,.0f}/s offered: "
        f"{_f(tg['rps'], 0)}/s answered ({'kept up' if kept_up else 'fell behind'}"
        f"{', ' + str(tg.get('scheduled_unsent', 0)) + ' never sent' if not kept_up else ''}), p99 "
        f"{_f(tg['p99_ms'])} ms ({_met(kept_up and tg['p99_ms'] <= TARGET_P99_MS)}). "
        f"The after-commit work of the {p['recorded']} recorded events was done "
        f"{p['drain_s']:.1f} s after the load stopped.",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.payments")
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("load", help="the webhook load generator (prints one JSON line)")
    load.add_argument("--url", required=True)
    load.add_argument("--mode", choices=("closed", "open"), default="closed")
    load.add_argument("--connections", type=int, default=CONNECTIONS)
    load.add_argument("--rate", type=float, default=TARGET_RATE)
    load.add_argument("--warmup", type=float, default=2.0)
    load.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)
    from services.chassis.runtime import use_uvloop

    use_uvloop()
    result = asyncio.run(
        _load(
            args.url,
            mode=args.mode,
            conns=args.connections,
            rate=args.rate,
            warmup=args.warmup,
            seconds=args.duration,
        )
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

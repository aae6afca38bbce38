"""HTTP load: wrk when it is on PATH, else a lean asyncio client of our own.

Both are closed-loop: a fixed number of keep-alive connections, each sending its
next request as soon as the previous answer is in, for a fixed duration (the
caller runs a warm-up first and drops it). Either runs as its own process, so its CPU
time can be read from the kernel (RUSAGE_CHILDREN) and reported: on a 2-core
machine the load generator competes with the server for the same cores.

    python -m bench.loadgen --url http://127.0.0.1:N/path -H 'Host: x' ...
prints one JSON line (the Python client).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.procs import ROOT
from services.chassis.runtime import use_uvloop

WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")
WRK_PATHS_SCRIPT = Path(__file__).with_name("wrk_paths.lua")


@dataclass(frozen=True)
class Load:
    url: str
    headers: dict[str, str]
    connections: int = 32
    duration_s: float = 10.0
    # When set, requests cycle through these paths (on url's host) instead of
    # url's own: a journey such as / -> /home -> /projects/x, redirects included.
    paths: tuple[str, ...] = ()


# -- which generator ------------------------------------------------------------


def find_wrk(*, allow_install: bool) -> str | None:
    """wrk on PATH; outside CI (as root), try `apt-get install -y wrk` if it is missing."""
    found = shutil.which("wrk")
    if found or not allow_install or os.environ.get("CI") or os.geteuid() != 0:
        return found
    if not shutil.which("apt-get"):
        return None
    print("bench: wrk is not installed; trying `apt-get install -y wrk` ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> None:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                ["apt-get", *args], env=env, capture_output=True, timeout=180, check=False
            )

    apt("install", "-y", "-q", "wrk")
    if not shutil.which("wrk"):
        apt("update", "-q")  # a fresh machine may have no package lists yet
        apt("install", "-y", "-q", "wrk")
    found = shutil.which("wrk")
    print(f"bench: {'wrk installed' if found else 'no wrk; using the Python client'}", flush=True)
    return found


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# -- wrk --------------------------------------------------------------------------


def run_wrk(wrk: str, load: Load) -> dict:
    """One wrk run of load.duration_s (no warm-up here: the caller runs one)."""
    headers: list[str] = []
    for key, value in load.headers.items():
        headers += ["-H", f"{key}: {value}"]
    argv = [wrk, "-t1", f"-c{load.connections}", f"-d{max(1, round(load.duration_s))}s"]
    script = WRK_PATHS_SCRIPT if load.paths else WRK_SCRIPT
    argv += ["--timeout", "5s", *headers, "-s", str(script), load.url]
    if load.paths:
        argv += ["--", *load.paths]
    cpu0 = _children_cpu()
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=load.duration_s + 30
    )
    cpu = _children_cpu() - cpu0
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    return {
        "generator": "wrk",
        "connections": load.connections,
        "duration_s": seconds,
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non_2xx": raw["status"],
        "socket_errors": sum(raw[k] for k in ("connect", "read", "write", "timeout")),
        "loadgen_cpu_pct": 100 * cpu / seconds,
    }


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False, timeout=10)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0] if first else "wrk"


# -- the Python client (run as its own process) --------------------------------------


def run_python(load: Load) -> dict:
    """One run of the Python client in its own process (it drops its first 0.2 s)."""
    argv = [sys.executable, "-m", "bench.loadgen", "--url", load.url]
    for key, value in load.headers.items():
        argv += ["-H", f"{key}: {value}"]
    argv += [
        "--connections",
        str(load.connections),
        "--warmup",
        "0.2",
        "--duration",
        str(load.duration_s),
    ]
    for path in load.paths:
        argv += ["--path", path]
    with tempfile.TemporaryFile("w+") as err:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            check=False,
            timeout=load.duration_s + 60,
        )
        if done.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"Python load generator failed:\n{err.read()[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class _Conn(asyncio.Protocol):
    """One keep-alive connection: send, read one whole response, send again."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.buf = bytearray()
        self.sent_at = 0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send()

    def send(self) -> None:
        if self.client.stopping:
            assert self.transport is not None
            self.transport.close()
            return
        self.sent_at = time.perf_counter_ns()
        assert self.transport is not None
        self.transport.write(self.client.next_request())

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            length = _content_length(head)
            total = end + 4 + length
            if len(self.buf) < total:
                return
            status = int(head[9:12])
            del self.buf[:total]
            self.client.record(time.perf_counter_ns() - self.sent_at, status)
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.client.stopping:
            self.client.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


def _content_length(head: bytes) -> int:
    lower = head.lower()
    i = lower.find(b"\r\ncontent-length:")
    if i < 0:
        if b"transfer-encoding: chunked" in lower:
            raise RuntimeError("chunked responses are not supported by the bench client")
        return 0
    j = lower.find(b"\r\n", i + 2)
    return int(lower[i + 17 : j if j >= 0 else None])


class _Client:
    def __init__(self, requests: list[bytes]) -> None:
        self.requests = requests
        self.sent = 0
        self.stopping = False
        self.measuring = False
        self.latencies: list[int] = []
        self.non_2xx = 0
        self.errors = 0

    def next_request(self) -> bytes:
        """The journey's steps in turn, across all connections (as wrk's script does)."""
        request = self.requests[self.sent % len(self.requests)]
        self.sent += 1
        return request

    def record(self, ns: int, status: int) -> None:
        if not self.measuring:
            return
        self.latencies.append(ns)
        if status >= 400:  # as wrk counts: a redirect in a journey is an answer
            self.non_2xx += 1


async def _python_client(load: Load, warmup_s: float) -> dict:
    parts = urlsplit(load.url)
    paths = load.paths or (parts.path + (f"?{parts.query}" if parts.query else ""),)
    headers = {"Host": parts.netloc, **load.headers}
    fields = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    client = _Client([f"GET {path} HTTP/1.1\r\n{fields}\r\n".encode() for path in paths])
    loop = asyncio.get_running_loop()
    conns = [
        (await loop.create_connection(lambda: _Conn(client), parts.hostname, parts.port))[1]
        for _ in range(load.connections)
    ]
    await asyncio.sleep(warmup_s)
    client.measuring = True
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(load.duration_s)
    client.measuring = False
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    client.stopping = True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(c.closed for c in conns)), 10)
    lat = sorted(client.latencies)
    n = len(lat)

    def pct(p: float) -> float:
        return lat[min(n - 1, int(p / 100 * n))] / 1e6 if n else float("nan")

    return {
        "generator": "python-asyncio",
        "connections": load.connections,
        "duration_s": seconds,
        "requests": n,
        "rps": n / seconds,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": lat[-1] / 1e6 if n else float("nan"),
        "non_2xx": client.non_2xx,
        "socket_errors": client.errors,
        "loadgen_cpu_pct": 100 * cpu / seconds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--url", required=True)
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--path", action="append", default=[])
    args = parser.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    load = Load(args.url, headers, args.connections, args.duration, tuple(args.path))
    use_uvloop()
    print(json.dumps(asyncio.run(_python_client(load, args.warmup))), flush=True)


if __name__ == "__main__":
    main()

"""The suite's children as processes: how one is started (its own session,
SIGTERM when the supervisor dies), stopped, and asked whether it is ready.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the supervisor dies, however it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[str] | None = None
    expected_exit: bool = False
    pump: threading.Thread | None = None

    def start(self, *, cwd: Path, out: IO[str], lock: threading.Lock, width: int) -> None:
        """Spawn the process and a thread copying its output, each line
        prefixed with the child's name, into `out`."""
        self.expected_exit = False
        self.proc = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.pump = threading.Thread(target=self._pump, args=(out, lock, width), daemon=True)
        self.pump.start()

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.expected_exit = True
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.pump is not None:
            self.pump.join(2)

    @property
    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def _pump(self, out: IO[str], lock: threading.Lock, width: int) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with lock:
                out.write(f"{self.name:<{width}} | {line}")
        out.flush()


def grpc_serving(target: str) -> bool:
    try:
        with grpc.insecure_channel(target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1
            )
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False


def http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1) as response:
            return 200 <= int(response.status) < 500
    except urllib.error.HTTPError as exc:  # it answered: up, if not pleased
        return exc.code < 500
    except OSError:
        return False


def has_localstripe() -> bool:
    return (Path(sys.executable).parent / "localstripe").exists()

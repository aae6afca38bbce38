"""Processes the bench starts itself (floors, load generators): started in their
own session, told to die with us (PR_SET_PDEATHSIG), stopped by pid."""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Proc:
    """One child process, its output in a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict | None = None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> Proc:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it; closed after Popen
        try:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def wait_for_port(port: int, proc: Proc, timeout: float = 30, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited while starting:\n{proc.log_tail()}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.name} did not listen on {port} in {timeout:.0f}s")
        time.sleep(0.05)


def cpu_seconds(pids: Iterable[int]) -> float:
    """User+system CPU of these processes and all their live descendants, plus what
    their exited children used (the kernel adds a reaped child's time to its parent's
    cutime/cstime: e.g. PostgreSQL backends that came and went)."""
    total = 0.0
    seen: set[int] = set()
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
    return total


def suite_pids(suite) -> dict[str, int]:
    """The suite's processes by name, PostgreSQL and NATS included."""
    pids = {n: c.proc.pid for n, c in suite.children.items() if c.proc is not None}
    pids["postgres"] = suite.postgres.pid or 0
    pids["nats-server"] = suite.nats.pid or 0
    return pids


def py_spy(
    pids: dict[str, int], seconds: float, out_dir: str, names, *, prefix: str = ""
) -> list[subprocess.Popen]:
    """py-spy recordings (speedscope JSON in `out_dir`) of the named processes
    for `seconds`; none when `out_dir` is empty."""
    if not out_dir:
        return []
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                *(spy, "record", "-r", "200", "-d", str(int(seconds)), "-p", str(pids[name])),
                *(
                    "--nonblocking",
                    "--format",
                    "speedscope",
                    "-o",
                    str(out / f"{prefix}{name}.json"),
                ),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in names
        if name in pids
    ]

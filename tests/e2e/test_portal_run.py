"""`make run` is `portal run`: it starts everything, prints the URL and a
token that work, and Ctrl-C or the crash of one process stops every process
it started."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.infra import free_port
from deploy.suite import ROOT

pytestmark = pytest.mark.e2e


def start(data_dir: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.cli",
            "run",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_banner(proc: subprocess.Popen, timeout: float = 120) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("portal run exited early:\n" + "".join(lines[-40:]))
        lines.append(line)
        if "Ctrl-C stops it all" in line:
            return lines
    raise AssertionError("no banner in time:\n" + "".join(lines[-40:]))


def assert_all_gone(pids: dict[str, int], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    alive = dict(pids)
    while alive and time.monotonic() < deadline:
        for name, pid in list(alive.items()):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                del alive[name]
        time.sleep(0.1)
    assert not alive, f"still running: {alive}"


def drain(proc: subprocess.Popen, timeout: float = 90) -> str:
    # Generous: on a loaded 2-core machine an orderly stop of eleven processes
    # has taken over 30 s.
    out, _ = proc.communicate(timeout=timeout)
    return out


def stop_leftovers(proc: subprocess.Popen, data_dir: Path) -> None:
    """If the run did not stop by itself, kill it and every process it started
    (by the ids it wrote: PostgreSQL and NATS run in their own sessions, so
    killing the run's process group alone would leave them behind)."""
    if proc.poll() is not None:
        return  # it stopped by itself; its children's ids may be reused by now
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    info = data_dir / "dev.json"
    pids = json.loads(info.read_text()).get("pids", {}) if info.exists() else {}
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_portal_run_prints_a_working_url_and_token_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    proc = start(tmp_path, port)
    try:
        banner = "".join(wait_banner(proc))
        info = json.loads((tmp_path / "dev.json").read_text())
        assert info["staff_token"] in banner and info["demo_url"] in banner
        host = info["demo_host"].split(":")[0]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            ok = http.get(
                "/api/v1/projects",
                headers={"Host": host, "Authorization": f"Bearer {info['staff_token']}"},
            )
            assert ok.status_code == 200 and ok.json()["projects"]
            refused = http.get("/api/v1/projects", headers={"Host": host})
            assert refused.status_code == 401
            assert refused.headers["content-type"].startswith("application/problem+json")
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        out = drain(proc)
        assert proc.returncode == 0, out[-3000:]
        assert_all_gone(info["pids"])
    finally:
        stop_leftovers(proc, tmp_path)

    # A second start on the same data is quick to seed and keeps the token working.
    proc = start(tmp_path, port)
    try:
        wait_banner(proc)
        again = json.loads((tmp_path / "dev.json").read_text())
        assert again["staff_token"] == info["staff_token"]
        assert again["demo_project_id"] == info["demo_project_id"]
        # The crash of one process stops them all, and the supervisor says so.
        os.kill(again["pids"]["projects"], signal.SIGKILL)
        out = drain(proc)
        assert proc.returncode == 1
        assert "projects exited unexpectedly" in out
        assert_all_gone(again["pids"])
    finally:
        stop_leftovers(proc, tmp_path)

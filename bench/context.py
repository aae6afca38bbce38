"""Facts about the run (machine, commit), the suite's log excerpt on failure,
and the stray-process check: what bench/run.py reports around its measurements."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

import psutil

from bench.procs import ROOT


def machine() -> dict:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count() or 0,
        "cpu_model": model,
        "ram_gib": psutil.virtual_memory().total / 2**30,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def git_commit() -> str:
    """HEAD, and whether the tree differs from it (read-only: `git diff` writes nothing)."""
    if not shutil.which("git"):
        return "unknown"

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=30
        )

    head = git("rev-parse", "--short", "HEAD").stdout.strip()
    if not head:
        return "unknown"
    dirty = git("diff", "--quiet", "HEAD", "--").returncode == 1
    return f"{head} + uncommitted changes" if dirty else head


def suite_log_excerpt(path: Path, lines: int = 20) -> str:
    """The last warnings/errors, and the last traceback whole."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no suite log)"
    bad = [
        ln
        for ln in text
        if '"level": "error"' in ln or '"level": "warning"' in ln or "Traceback" in ln
    ]
    out = ["--- warnings and errors ---", *bad[-lines:]]
    # Plain tracebacks (uvicorn's); JSON log lines carry theirs inline (shown above).
    starts = [i for i, ln in enumerate(text) if ln.endswith("| Traceback (most recent call last):")]
    if starts:
        prefix = text[starts[-1]].split("|", 1)[0] + "| "
        block = []
        for ln in text[starts[-1] :]:
            if not ln.startswith(prefix):
                continue  # another process's line in between
            block.append(ln)
            body = ln[len(prefix) :]
            if len(block) > 1 and body and not body.startswith((" ", "Traceback", "During")):
                break  # the exception line ends the traceback
        if len(block) > 25:
            block = [block[0], f"{prefix}  ...", *block[-24:]]
        out += ["--- last traceback ---", *block]
    return "\n".join(out)


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def strays(pids: list[int]) -> list[int]:
    """Pids we started that are still running after stopping (waits up to 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        alive = [p for p in pids if running(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)

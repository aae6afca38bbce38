"""Start the real local infrastructure: embedded PostgreSQL, NATS with JetStream, SMTP sink."""

from __future__ import annotations

import asyncio
import os
import signal
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import httpx
import nats
import psutil
import pytest

from deploy.infra import Nats, Postgres, free_port
from deploy.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
# The machine's own PostgreSQL and NATS; ours must never use (or touch) them.
SYSTEM_PORTS = {5432, 4222}
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def assert_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory):
    server = Postgres(tmp_path_factory.mktemp("pg") / "data", settings=FAST)
    server.start()
    yield server
    pid = server.pid
    server.stop()
    assert pid is not None
    assert_gone(pid)


# -- PostgreSQL --------------------------------------------------------------------------


async def test_postgres_service_database(pg: Postgres) -> None:
    assert pg.port not in SYSTEM_PORTS
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; the launcher switches to a system user,
        # keeping none of root's groups, and the pid it holds is postgres itself.
        server = psutil.Process(pg.pid)
        assert server.username() == "embedded_postgres"
        assert server.name() == "postgres"
        status = await asyncio.to_thread(Path(f"/proc/{pg.pid}/status").read_text)
        groups = next(line for line in status.splitlines() if line.startswith("Groups:"))
        assert groups.split(":")[1].split() in ([], [str(server.gids().real)])

    # Called from inside a running event loop on purpose: the sync API must cope.
    url = pg.ensure_service_database("billing", "pa:ss/w@rd'")
    assert url.startswith(
        f"postgresql+asyncpg://billing_svc:pa%3Ass%2Fw%40rd%27@127.0.0.1:{pg.port}/"
    )
    dsn = url.replace("+asyncpg", "")

    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT current_user") == "billing_svc"
        assert await conn.fetchval("SELECT current_database()") == "billing"
        # The owner can create tables, including exclusion constraints (btree_gist).
        await conn.execute(
            "CREATE TABLE booking (room int, during tstzrange,"
            " EXCLUDE USING gist (room WITH =, during WITH &&))"
        )
    finally:
        await conn.close()

    admin = await asyncpg.connect(pg.admin_url)
    try:
        role = await admin.fetchrow(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin"
            " FROM pg_roles WHERE rolname = 'billing_svc'"
        )
        assert tuple(role) == (False, False, False, True)
    finally:
        await admin.close()

    # Idempotent; the password is reset to the new one and existing data is kept.
    url2 = pg.ensure_service_database("billing", "rotated")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(dsn)
    conn = await asyncpg.connect(url2.replace("+asyncpg", ""))
    try:
        assert await conn.fetchval("SELECT count(*) FROM booking") == 0
    finally:
        await conn.close()

    # Service roles cannot reach each other's databases.
    crm = pg.ensure_service_database("crm", "crm-pw")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(crm.replace("+asyncpg", "").rsplit("/", 1)[0] + "/billing")

    with pytest.raises(ValueError):
        pg.ensure_service_database("Bad-Name", "x")


async def test_postgres_drop_database(pg: Postgres) -> None:
    pg.ensure_service_database("scratch", "pw")
    pg.drop_database("scratch")
    pg.drop_database("scratch")  # idempotent
    admin = await asyncpg.connect(pg.admin_url)
    try:
        assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = 'scratch'") is None
        assert await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = 'scratch_svc'") is None
    finally:
        await admin.close()


def test_postgres_stop_restart_and_leftover_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Postgres(data, settings=FAST) as server:
        pid = server.pid
        assert pid is not None
        children = [p.pid for p in psutil.Process(pid).children()]
        assert children  # checkpointer, walwriter, ...
    assert_gone(pid)
    for child in children:
        assert not psutil.pid_exists(child)
    server.stop()  # idempotent

    # A second start reuses the cluster. Then a new launcher on the same data dir (as after a
    # crashed supervisor) stops the server still running there, found via postmaster.pid.
    crashed = Postgres(data, settings=FAST)
    crashed.start()
    leftover = crashed.pid
    assert leftover is not None
    fresh = Postgres(data, settings=FAST)
    fresh.start()
    try:
        assert fresh.pid != leftover
        assert not psutil.pid_exists(leftover)
    finally:
        fresh.stop()
        crashed.stop()

    # A server that dies during startup raises with the log's tail.
    broken = Postgres(data, settings={"no_such_setting": "1"})
    with pytest.raises(RuntimeError, match="no_such_setting"):
        broken.start()
    assert broken.pid is None


async def test_postgres_long_data_dir_uses_short_socket_dir(tmp_path: Path) -> None:
    data = tmp_path / ("d" * 80) / "data"
    with Postgres(data, settings=FAST) as server:
        socket_dir = server._temp_socket_dir
        assert socket_dir is not None
        assert (socket_dir / f".s.PGSQL.{server.port}").exists()
        conn = await asyncpg.connect(host=str(socket_dir), port=server.port, user="postgres")
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
    assert not socket_dir.exists()


# -- NATS --------------------------------------------------------------------------------


async def test_nats_jetstream(tmp_path: Path) -> None:
    server = Nats(tmp_path / "nats")
    server.start()
    pid = server.pid
    assert pid is not None
    try:
        assert {server.port, server.monitor_port}.isdisjoint(SYSTEM_PORTS)
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream()
            await js.add_stream(name="T", subjects=["t.>"])
            ack = await js.publish("t.hello", b"hi")
            assert (ack.stream, ack.seq) == ("T", 1)
        finally:
            await nc.close()
    finally:
        server.stop()
    assert_gone(pid)
    server.stop()  # idempotent


def test_nats_stops_leftover_server(tmp_path: Path) -> None:
    crashed = Nats(tmp_path / "nats")
    crashed.start()
    leftover = crashed.pid
    with Nats(tmp_path / "nats") as fresh:
        assert fresh.pid != leftover
        assert leftover is not None and not psutil.pid_exists(leftover)
    crashed.stop()


# -- SMTP sink ---------------------------------------------------------------------------


def _send(port: int, subject: str, login: bool = False) -> None:
    msg = EmailMessage()
    msg["From"] = "Portal <noreply@portal.test>"
    msg["To"] = "client@example.test"
    msg["Subject"] = subject
    msg.set_content("Reset here: https://portal.test/reset?token=abc&u=1\n")
    msg.add_alternative("<p>Hi <b>there</b><script>alert(1)</script></p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        if login:
            smtp.login("user", "any-password")
        smtp.send_message(msg)


async def test_smtp_sink_in_process() -> None:
    async with SmtpSink("127.0.0.1", 0, 0) as sink:
        subject = "Reset <your> password ✓"
        await asyncio.to_thread(_send, sink.smtp_port, subject, True)
        assert [m["subject"] for m in sink.messages] == [subject]

        async with httpx.AsyncClient(base_url=sink.web_url, trust_env=False) as http:
            (msg,) = (await http.get("/messages")).json()
            assert msg["subject"] == subject
            assert msg["mail_from"] == "noreply@portal.test"
            assert msg["rcpt_tos"] == ["client@example.test"]
            assert msg["headers"]["To"] == "client@example.test"
            assert "https://portal.test/reset?token=abc&u=1" in msg["text"]
            assert "<b>there</b>" in msg["html"]
            assert (await http.get("/messages", params={"to": "nobody@x.test"})).json() == []

            page = await http.get("/")
            assert "Reset &lt;your&gt; password ✓" in page.text
            assert "<script>" not in page.text
            assert 'href="https://portal.test/reset?token=abc&amp;u=1"' in page.text

            part = await http.get(f"/messages/{msg['id']}/html")
            assert part.headers["content-security-policy"].startswith("default-src 'none'")
            assert "<b>there</b>" in part.text

            assert (await http.delete("/messages")).status_code == 200
            assert (await http.get("/messages")).json() == []
            assert (await http.get("/nope")).status_code == 404


async def test_smtp_sink_parses_a_message_only_when_it_is_read(monkeypatch) -> None:
    from deploy import smtp_capture

    parsed: list[int] = []
    real = smtp_capture.parse_message

    def counting(msg_id, *args):
        parsed.append(msg_id)
        return real(msg_id, *args)

    monkeypatch.setattr(smtp_capture, "parse_message", counting)
    async with SmtpSink("127.0.0.1", 0, 0) as sink:
        await asyncio.to_thread(_send, sink.smtp_port, "first")
        await asyncio.to_thread(_send, sink.smtp_port, "second")
        assert parsed == []  # received and kept, not parsed
        async with httpx.AsyncClient(base_url=sink.web_url, trust_env=False) as http:
            raw = await http.get("/messages/1/raw")
            assert b"Subject: first" in raw.content and parsed == []
            assert (await http.get("/messages", params={"to": "nobody@x.test"})).json() == []
            assert parsed == []  # filtered by the envelope, unparsed
            assert [m["subject"] for m in (await http.get("/messages")).json()] == [
                "first",
                "second",
            ]
            assert [m["subject"] for m in sink.messages] == ["first", "second"]
        assert parsed == [1, 2]  # once each, however often read


async def test_smtp_sink_process() -> None:
    smtp_port, http_port = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "deploy.smtp_sink",
        "--smtp-port",
        str(smtp_port),
        "--http-port",
        str(http_port),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
        assert line.decode().strip() == (
            f"smtp sink: smtp 127.0.0.1:{smtp_port}, web http://127.0.0.1:{http_port}/"
        )
        await asyncio.to_thread(_send, smtp_port, "Hello from a process")
        async with httpx.AsyncClient(trust_env=False) as http:
            messages = (await http.get(f"http://127.0.0.1:{http_port}/messages")).json()
        assert [m["subject"] for m in messages] == ["Hello from a process"]

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_a_port_bound_on_any_address_is_not_free() -> None:
    """localstripe binds [::]; our servers 127.0.0.1: a port counts as free only
    if nothing holds it on any address (IPv4 wildcard, IPv6 loopback only)."""
    import socket

    from deploy.infra.process import port_is_free

    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family, socket.SOCK_STREAM) as held:
            if family == socket.AF_INET6:
                held.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            held.bind((address, 0))
            held.listen()
            assert not port_is_free(held.getsockname()[1]), address


def test_free_ports_are_distinct_and_outside_the_ephemeral_range() -> None:
    """Outgoing connections take local ports from the ephemeral range: a port
    we chose there could be taken before its server binds it (the restart
    collisions `make run` had with localstripe)."""
    from deploy.infra.process import _ephemeral_range, port_is_free

    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert not [p for p in ports if low <= p <= high]
    assert all(port_is_free(p) for p in ports)


def test_smtp_sink_shows_a_folded_8bit_subject_unfolded() -> None:
    """A raw UTF-8 subject folded right after its name (as SMTPUTF8 mail
    is): the viewer shows it on one line, without the fold's break or a
    leading space."""
    from datetime import UTC, datetime

    from deploy import smtp_capture

    raw = (
        "From: a@x.test\r\nTo: b@x.test\r\nSubject:\r\n Änderung CO-003: zweiter\r\n"
        " Subwoofer\r\nX-Note: one\r\n two\r\n\r\nbody\r\n"
    ).encode()
    record = smtp_capture.parse_message(1, "a@x.test", ["b@x.test"], raw, datetime.now(UTC))
    assert record["subject"] == "Änderung CO-003: zweiter Subwoofer"
    assert record["headers"]["X-Note"] == "one two"

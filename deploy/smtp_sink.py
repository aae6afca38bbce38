"""Dev SMTP sink: accepts every message, keeps it in memory, shows it on a web page.

Messages are kept as received and parsed the first time something reads them
(HTTP, `messages`), once each: a run that only sends (a benchmark's thousands
of emails, nobody reading) no longer pays the email package's parse per
message, which cost the sink more CPU per email than the sender's composing.

    python -m deploy.smtp_sink --smtp-port 1025 --http-port 8025 [--host 127.0.0.1]

HTTP endpoints (no dependencies beyond aiosmtpd and the stdlib):

    GET    /                     captured mail as HTML, newest first
    GET    /messages             JSON list, oldest first; `?to=addr` filters by recipient
    DELETE /messages             forget everything (for tests)
    GET    /messages/<id>/html   the HTML part, under a CSP that blocks scripts and remote loads
    GET    /messages/<id>/raw    the message as received
    POST   /faults?to=addr&code=451[&count=1][&subject=part]
                                 answer the next `count` messages to `addr` (whose subject
                                 contains `part`) with that SMTP code instead (for tests)
    DELETE /faults               forget the faults

SMTP: no TLS; AUTH (PLAIN/LOGIN) is offered without TLS and accepts any credentials, so a
service configured with a username and password can send here unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import json
import re
import signal
from collections import deque
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from deploy.smtp_capture import Captured
from deploy.smtp_faults import Fault

MAX_MESSAGES = 1000
_MAX_REQUEST_BODY = 64 * 1024
_HTML_PART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
_HTML_PART_PATH = re.compile(r"^/messages/(\d+)/(html|raw)$")
# Runs on html.escape()d text, so a URL also stops at an escaped quote or bracket.
_URL = re.compile(r"https?://(?:(?!&quot;|&#x27;|&lt;|&gt;)[^\s])+")


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        for fault in self._sink.faults:
            if fault.matches(envelope.rcpt_tos, raw):
                return fault.reply()
        self._sink._store(envelope.mail_from or "", envelope.rcpt_tos, raw)
        return "250 OK: captured by dev smtp sink"


def _accept_any_login(*_args: Any) -> AuthResult:
    return AuthResult(success=True)


class SmtpSink:
    """SMTP server + web page, both on the running event loop.

    Port 0 picks a free port; the bound ports are in `smtp_port` / `http_port` after start().
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        smtp_port: int = 0,
        http_port: int = 0,
        max_messages: int = MAX_MESSAGES,
    ) -> None:
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self._messages: deque[Captured] = deque(maxlen=max_messages)
        self._ids = itertools.count(1)
        self.faults: list[Fault] = []
        self._smtp_server: asyncio.Server | None = None
        self._http_server: asyncio.Server | None = None

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Handler(self)
        self._smtp_server = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname="smtp-sink",  # else aiosmtpd calls getfqdn(), slow in some sandboxes
                enable_SMTPUTF8=True,
                authenticator=_accept_any_login,
                auth_require_tls=False,
            ),
            self.host,
            self.smtp_port,
        )
        self.smtp_port = self._smtp_server.sockets[0].getsockname()[1]
        self._http_server = await asyncio.start_server(self._serve_http, self.host, self.http_port)
        self.http_port = self._http_server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for server in (self._smtp_server, self._http_server):
            if server is not None:
                server.close()
                await server.wait_closed()
        self._smtp_server = self._http_server = None

    async def __aenter__(self) -> SmtpSink:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.http_port}/"

    # -- storage -------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Captured messages, oldest first, in the JSON shape of GET /messages."""
        return [m.record() for m in self._messages]

    def clear(self) -> None:
        self._messages.clear()

    def _store(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        self._messages.append(
            Captured(next(self._ids), mail_from, list(rcpt_tos), raw, datetime.now(UTC))
        )

    def raw(self, msg_id: int) -> bytes | None:
        """The message with this id as received (None: not kept)."""
        captured = self._find(msg_id)
        return captured.raw if captured else None

    def _find(self, msg_id: int) -> Captured | None:
        return next((m for m in self._messages if m.id == msg_id), None)

    # -- HTTP ----------------------------------------------------------------------

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A deliberately tiny HTTP/1.1 server: one request per connection."""
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
                method, target, _ = head.decode("latin-1").split("\r\n", 1)[0].split(" ", 2)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                return
            except ValueError:
                await self._respond(writer, "GET", HTTPStatus.BAD_REQUEST, b"bad request\n")
                return
            # Drain a request body, if any, so the client doesn't see a reset.
            length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
            if length and 0 < int(length.group(1)) <= _MAX_REQUEST_BODY:
                with contextlib.suppress(asyncio.IncompleteReadError, TimeoutError):
                    await asyncio.wait_for(reader.readexactly(int(length.group(1))), timeout=10)
            status, content_type, body, extra = self._route(method, target)
            await self._respond(writer, method, status, body, content_type, extra)
        except ConnectionError:
            return  # the browser went away; nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _route(self, method: str, target: str) -> tuple[HTTPStatus, str, bytes, dict[str, str]]:
        url = urlsplit(target)
        path, query = url.path, parse_qs(url.query)
        read = method in ("GET", "HEAD")
        if path == "/" and read:
            return (
                HTTPStatus.OK,
                "text/html; charset=utf-8",
                self._page(),
                {"Content-Security-Policy": _PAGE_CSP},
            )
        if path == "/messages" and read:
            captured = list(self._messages)
            if to := query.get("to", [""])[0].lower():
                # By the envelope, before parsing: only the matching ones are parsed.
                captured = [m for m in captured if to in (r.lower() for r in m.rcpt_tos)]
            messages = [m.record() for m in captured]
            return HTTPStatus.OK, "application/json", json.dumps(messages).encode(), {}
        if path == "/messages" and method == "DELETE":
            self.clear()
            return HTTPStatus.OK, "application/json", b'{"deleted": true}', {}
        if path == "/faults" and method == "POST":
            return self._add_fault(query)
        if path == "/faults" and method == "DELETE":
            self.faults.clear()
            return HTTPStatus.OK, "application/json", b'{"deleted": true}', {}
        if (match := _HTML_PART_PATH.match(path)) and read:
            captured = self._find(int(match.group(1)))
            if captured is None:
                return HTTPStatus.NOT_FOUND, "text/plain", b"no such message\n", {}
            if match.group(2) == "raw":
                return HTTPStatus.OK, "text/plain; charset=utf-8", captured.raw, {}
            msg = captured.record()
            if msg["html"] is None:
                return HTTPStatus.NOT_FOUND, "text/plain", b"message has no HTML part\n", {}
            body = msg["html"].encode("utf-8", "replace")
            return (
                HTTPStatus.OK,
                "text/html; charset=utf-8",
                body,
                {"Content-Security-Policy": _HTML_PART_CSP},
            )
        if path in ("/", "/messages") or _HTML_PART_PATH.match(path):
            return HTTPStatus.METHOD_NOT_ALLOWED, "text/plain", b"method not allowed\n", {}
        return HTTPStatus.NOT_FOUND, "text/plain", b"not found\n", {}

    def _add_fault(self, query: dict[str, list[str]]) -> tuple[HTTPStatus, str, bytes, dict]:
        fault = Fault.from_query(query)
        if isinstance(fault, str):
            return HTTPStatus.BAD_REQUEST, "text/plain", f"{fault}\n".encode(), {}
        self.faults.append(fault)
        return HTTPStatus.CREATED, "application/json", json.dumps(vars(fault)).encode(), {}

    @staticmethod
    async def _respond(
        writer: asyncio.StreamWriter,
        method: str,
        status: HTTPStatus,
        body: bytes,
        content_type: str = "text/plain",
        extra: dict[str, str] | None = None,
    ) -> None:
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Connection": "close",
            **(extra or {}),
        }
        head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n" + (b"" if method == "HEAD" else body))
        await writer.drain()

    def _page(self) -> bytes:
        def esc(value: object) -> str:
            return html.escape(str(value), quote=True)

        def linkify(text: str) -> str:
            return _URL.sub(lambda m: f'<a href="{m[0]}" rel="noreferrer">{m[0]}</a>', esc(text))

        items = []
        for m in reversed(self.messages):
            html_link = (
                f' · <a href="/messages/{m["id"]}/html">HTML version</a>' if m["html"] else ""
            )
            attachments = "".join(
                f"<li>{esc(a['filename'] or '(unnamed)')} ({esc(a['content_type'])}, "
                f"{a['size']} bytes)</li>"
                for a in m["attachments"]
            )
            items.append(
                f"""<article>
<h2>{esc(m["subject"] or "(no subject)")}</h2>
<dl>
<dt>Received</dt><dd>{esc(m["received_at"])}</dd>
<dt>From</dt><dd>{esc(m["headers"].get("From", m["mail_from"]))}</dd>
<dt>To</dt><dd>{esc(", ".join(m["rcpt_tos"]))}</dd>
</dl>
<pre>{linkify(m["text"] or "(no text part)")}</pre>
{f"<ul>{attachments}</ul>" if attachments else ""}
<p class="meta">#{m["id"]}{html_link} · <a href="/messages/{m["id"]}/raw">raw</a></p>
</article>"""
            )
        body = "\n".join(items) or "<p>No mail yet.</p>"
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev mail ({len(self._messages)})</title>
<style>
body {{ font: 16px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 50rem; padding: 1rem; }}
article {{ border: 1px solid #ccc; border-radius: .5rem; margin: 1rem 0; padding: .75rem; }}
h2 {{ font-size: 1.1rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }}
dl {{ display: grid; grid-template-columns: auto 1fr; gap: .1rem .75rem; margin: 0; }}
dt {{ color: #666; }} dd {{ margin: 0; overflow-wrap: anywhere; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .5rem; }}
.meta {{ color: #666; font-size: .9rem; margin: 0; }}
</style></head><body>
<h1>Dev mail</h1>
<p class="meta">{len(self._messages)} message(s), newest first · <a href="/">refresh</a></p>
{body}
</body></html>
""".encode()


async def _main(host: str, smtp_port: int, http_port: int) -> None:
    sink = SmtpSink(host, smtp_port, http_port)
    await sink.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp sink: smtp {host}:{sink.smtp_port}, web {sink.web_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await sink.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.host, args.smtp_port, args.http_port))


if __name__ == "__main__":
    main()

"""What the dev SMTP sink keeps of a message (deploy/smtp_sink.py): the bytes as
received, parsed into the JSON shape its HTTP API serves the first time
something reads it, once."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any


def _unmangle(text: str) -> str:
    """Undo the parser's surrogateescape of raw 8-bit bytes (e.g. SMTPUTF8 headers)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _header(text: str) -> str:
    """A header's value as read: unfolded (RFC 5322: the line breaks go, the
    space after them stays) and trimmed. A raw 8-bit header folded right
    after its name kept the break, shown as a leading space in the viewer."""
    return re.sub(r"\r?\n(?=[ \t])", "", _unmangle(text)).strip()


def _part_content(msg: EmailMessage, subtype: str) -> str | None:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        return _unmangle(part.get_content())
    except (LookupError, ValueError):  # unknown charset, broken transfer encoding
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None


def parse_message(
    msg_id: int, mail_from: str, rcpt_tos: list[str], raw: bytes, received_at: datetime
) -> dict[str, Any]:
    """The JSON shape of one captured message."""
    record: dict[str, Any] = {
        "id": msg_id,
        "received_at": received_at.isoformat(),
        "mail_from": mail_from,
        "rcpt_tos": list(rcpt_tos),
        "subject": "",
        "headers": {},
        "text": None,
        "html": None,
        "attachments": [],
    }
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        headers: dict[str, str] = {}
        for name, value in msg.items():
            # Repeated headers (Received, ...) are joined rather than dropped.
            value = _header(str(value))
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        record["headers"] = headers
        record["subject"] = _header(str(msg.get("Subject", "")))
        record["text"] = _part_content(msg, "plain")
        record["html"] = _part_content(msg, "html")
        record["attachments"] = [
            {
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "size": len(part.get_payload(decode=True) or b""),
            }
            for part in msg.iter_attachments()
        ]
    except Exception as exc:  # a sink must never bounce mail because it can't parse it
        record["text"] = f"(could not parse message: {exc!r})\n\n" + raw.decode("utf-8", "replace")
    return record


@dataclass
class Captured:
    """One message as received; `parsed` is its JSON shape once something asked."""

    id: int
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    received_at: datetime
    parsed: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        if self.parsed is None:
            self.parsed = parse_message(
                self.id, self.mail_from, self.rcpt_tos, self.raw, self.received_at
            )
        return self.parsed

"""Faults the dev SMTP sink can be told to inject (POST /faults), so tests
see a real SMTP server answer 4xx or 5xx: the next `count` messages to an
address, optionally only those whose subject contains some text."""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass


@dataclass
class Fault:
    to: str
    code: int
    count: int = 1
    subject: str = ""

    @classmethod
    def from_query(cls, query: dict[str, list[str]]) -> Fault | str:
        """The fault a query string asks for, or why it is not one."""
        try:
            fault = cls(
                to=query["to"][0],
                code=int(query["code"][0]),
                count=int(query.get("count", ["1"])[0]),
                subject=query.get("subject", [""])[0],
            )
        except (KeyError, ValueError):
            return "need to=addr and code=4xx|5xx (count=n and subject=part are optional)"
        if not 400 <= fault.code < 600:
            return "code must be 4xx or 5xx"
        return fault

    def matches(self, rcpt_tos: list[str], raw: bytes) -> bool:
        if self.count <= 0 or self.to.lower() not in (r.lower() for r in rcpt_tos):
            return False
        if not self.subject:
            return True
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        subject = str(headers.get("Subject", "")).encode("utf-8", "surrogateescape")
        return self.subject in subject.decode("utf-8", "replace")

    def reply(self) -> str:
        """The SMTP reply to the message this fault takes (one fewer to come)."""
        self.count -= 1
        kind = "try again later" if self.code < 500 else "refused"
        return f"{self.code} dev smtp sink: {kind} (an injected fault)"

"""By hand: CPU per change-order certificate drawn in-process (issue 12's largest
CPU item per approval), and the other processes' CPU meanwhile.

    .venv/bin/python -m bench.certificate_cpu [N] [--logo FILE.png] [--out FILE.pdf]

A realistic order: three rooms, thirteen changed lines, two moved stages, six
audit entries, a full letterhead (three pages). Prints ms of this process's CPU
per certificate and a hash of the bytes (the same before and after a change that
must not alter the document). For base against branch, run it with
`PYTHONPATH=<base>:<base>/protos` alternately (A B A B).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from services.changeorders.certificate import SignatureBlock, render_certificate
from services.changeorders.domain_audit import Entry, Verdict
from services.changeorders.domain_orders import CONSENT_TEXT, CONTENT_FORMAT, SignedContent
from services.chassis.pdf import Letterhead

KINDS = ("added", "removed", "quantity", "repriced", "unchanged")
BEFORE = {
    "items_minor": 1_000_000, "labour_minor": 200_000, "discount_minor": 0,
    "subtotal_minor": 1_200_000, "tax_minor": 240_000, "total_minor": 1_440_000,
}  # fmt: skip
AFTER = dict(BEFORE, subtotal_minor=1_350_000, tax_minor=270_000, total_minor=1_620_000)
SIGNED = datetime(2031, 1, 20, 10, 0, tzinfo=UTC)


def _line(key: str, quantity: int) -> dict[str, Any]:
    return {
        "key": key, "description": f"Premium in-wall speaker model {key} with grille",
        "quantity": quantity, "unit_price_minor": 45_000, "total_minor": quantity * 45_000,
        "client_visible": True, "labour": False,
    }  # fmt: skip


def _room(key: str, name: str, lines: int) -> dict[str, Any]:
    rows = []
    for i in range(lines):
        kind = KINDS[i % len(KINDS)]
        before = None if kind == "added" else _line(f"{key}.{i}", 2)
        after = None if kind == "removed" else _line(f"{key}.{i}", 3)
        rows.append(
            {"key": f"{key}.{i}", "kind": kind, "before": before, "after": after, "note": ""}
        )
    return {
        "key": key, "name": name, "added": False, "client_visible": True,
        "other_before_minor": 10_000, "other_after_minor": 15_000, "lines": rows,
    }  # fmt: skip


def certificate_parts(logo: bytes | None) -> tuple[Any, ...]:
    stage = {
        "start_before": "2031-03-02", "finish_before": "2031-03-10",
        "start_after": "2031-03-06", "finish_after": "2031-03-14",
    }  # fmt: skip
    content = SignedContent.from_dict(
        {
            "format": CONTENT_FORMAT, "number": "CO-003", "revision": 2,
            "project": {"reference": "PRJ-0042", "name": "Harrison residence cinema and audio"},
            "title": "Second subwoofer and rack rework",
            "reason": "The client asked for a second subwoofer after the acoustic survey; the "
            "rack moves to the plant room so the cinema stays quiet. " * 3,
            "diff": {
                "currency": "GBP", "tax_rate_bps": 2000, "signed_total_minor": 1_440_000,
                "rooms": [_room("R1", "Cinema", 6), _room("R2", "Living room", 4),
                          _room("R3", "Plant room", 3)],
                "before": BEFORE, "after": AFTER,
            },
            "schedule": {"days": 4, "shift_from": "install"},
            "stages": [dict(stage, stage=s) for s in ("install", "commission")],
            "approval_deadline": "2031-02-01T00:00:00Z", "consent_text": CONSENT_TEXT,
        }
    )  # fmt: skip
    signature = SignatureBlock(
        "Jane Harrison", "jane@harrison.example", "magic link", SIGNED, SIGNED,
        SIGNED + timedelta(minutes=1), "203.0.113.7",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Safari/605.1.15",
        content.sha256(), CONSENT_TEXT,
    )  # fmt: skip
    actions = ("created", "sent", "revised", "sent", "viewed", "approved")
    entries = [
        Entry("co", n, action, "user:abc", 2, SIGNED + timedelta(minutes=n), {}, "",
              hashlib.sha256(str(n).encode()).hexdigest())
        for n, action in enumerate(actions, 1)
    ]  # fmt: skip
    letterhead = Letterhead(
        integrator_name="Acme Home Cinema Ltd", address="1 High Street\nLondon\nW1 1AA",
        support_email="studio@acme.example", support_phone="+44 20 7946 0000",
        website="acme.example", logo=logo, client_name="The Harrison Residence",
        site="12 Elm Road, Richmond", time_zone="Europe/London",
    )  # fmt: skip
    return content, signature, entries, Verdict(len(entries)), letterhead


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=200)
    parser.add_argument("--logo", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    parts = certificate_parts(args.logo.read_bytes() if args.logo else None)
    pdf = render_certificate(*parts)  # warm
    busy0, wall0, cpu0 = psutil.cpu_times(), time.monotonic(), time.process_time()
    for _ in range(args.n):
        pdf = render_certificate(*parts)
    busy1, wall1, cpu1 = psutil.cpu_times(), time.monotonic(), time.process_time()
    fields = ("user", "nice", "system", "irq", "softirq", "steal")
    busy = sum(getattr(busy1, f) - getattr(busy0, f) for f in fields)
    other = (busy - (cpu1 - cpu0)) / (wall1 - wall0) * 100
    print(
        f"{(cpu1 - cpu0) / args.n * 1000:.2f} ms CPU/certificate, n={args.n}, other CPU "
        f"{other:.0f}% (of {psutil.cpu_count() * 100}%), {len(pdf)} bytes, "
        f"sha256 {hashlib.sha256(pdf).hexdigest()[:12]}"
    )
    if args.out:
        args.out.write_bytes(pdf)


if __name__ == "__main__":
    main()

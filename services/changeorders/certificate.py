"""The approval certificate as a PDF, in the suite's branded layout
(`services.chassis.pdf`): the order as the client signed it (the content
frozen when the revision was sent), the diff, the signature block with its
evidence, and the audit log with every entry's hash.

Money reads as the portal shows it (`chassis.money`), dates on the tenant's
clock (`chassis.timefmt`), with the exact UTC instants kept as evidence. No
raw ids. Deterministic: the same order, signature, log and letterhead give
the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fpdf.enums import XPos, YPos

from services.changeorders.domain_audit import Entry, Verdict
from services.changeorders.domain_diff import LineDiffKind
from services.changeorders.domain_orders import SignedContent
from services.chassis.money import format_amount, format_rate
from services.chassis.pdf import BrandedDocument, Heading, Letterhead, latin1
from services.chassis.timefmt import format_datetime, format_days_change

KIND_WORDS = {
    LineDiffKind.ADDED: "Added",
    LineDiffKind.REMOVED: "Removed",
    LineDiffKind.QUANTITY: "Quantity changed",
    LineDiffKind.SWAPPED: "Swapped",
    LineDiffKind.REPRICED: "Re-priced",
    LineDiffKind.UNCHANGED: "",
}


@dataclass(frozen=True)
class SignatureBlock:
    signer_name: str
    signer_email: str
    auth_method: str
    viewed_at: datetime | None
    consented_at: datetime
    signed_at: datetime
    ip: str
    user_agent: str
    content_sha256: str
    consent_text: str


def _utc(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else "-"


def render_certificate(
    content: SignedContent,
    signature: SignatureBlock,
    entries: Sequence[Entry],
    verdict: Verdict,
    letterhead: Letterhead | None = None,
) -> bytes:
    letterhead = letterhead or Letterhead(integrator_name="")
    zone = letterhead.time_zone
    signed_at = signature.signed_at.astimezone(UTC)
    when = format_datetime(signed_at, zone)
    pdf = BrandedDocument(
        letterhead,
        Heading(
            title="Change order certificate",
            reference=f"{content.project_reference} {content.number}",
            date_line=f"Approved {when}",
            fingerprint=signature.content_sha256,
        ),
        created_at=signed_at,
    )
    pdf.set_subject(latin1(content.title))
    diff = content.diff

    def money(amount: int) -> str:
        return format_amount(amount, diff.currency)

    pdf.paragraph(f"{content.project_reference}  |  {content.project_name}", size=9, muted=True)
    pdf.document_title(
        f"{content.number}: {content.title}", f"Revision {content.revision}  |  approved and signed"
    )
    pdf.paragraph(content.reason)
    pdf.ln(3)

    for room in diff.rooms:
        changed = [x for x in room.lines if x.kind != LineDiffKind.UNCHANGED]
        other = room.other_after_minor - room.other_before_minor
        if not changed and not other and not room.added:
            continue
        pdf.heading_line(room.name + (" (new room)" if room.added else ""))
        rows = [
            (
                f"{x.shown.description} ({KIND_WORDS[x.kind].lower()})",
                str(x.before.quantity) if x.before else "-",
                str(x.after.quantity) if x.after else "-",
                money(x.total_after_minor - x.total_before_minor),
            )
            for x in changed
        ]
        if other:
            rows.append(("Other items", "", "", money(other)))
        pdf.lines_table(
            ("Item", "Before", "After", "Change"),
            rows,
            total=(
                f"{room.name}: {money(room.total_before_minor)} -> {money(room.total_after_minor)}",
                "",
                "",
                money(room.total_after_minor - room.total_before_minor),
            ),
            widths=(106, 17, 17, 40),
        )

    before, after = diff.before, diff.after
    rows = [
        ("Signed proposal", money(diff.signed_total_minor)),
        ("Contract before this change", money(before.total_minor)),
        ("Change before tax", money(after.subtotal_minor - before.subtotal_minor)),
        (f"Tax on the change ({format_rate(diff.tax_rate_bps)})", money(diff.tax_impact_minor)),
        ("Price impact", money(diff.impact_minor)),
    ]
    pdf.totals(rows, grand=("Contract with this change", money(after.total_minor)))

    moved = [m for m in content.stages if m.moved]
    if moved:
        pdf.heading_line(f"Schedule: {format_days_change(content.schedule.days)}")
        pdf.lines_table(
            ("Stage", "Planned before", "Planned after", ""),
            [
                (
                    m.before.stage.title(),
                    _dates(m.before.planned_start, m.before.planned_finish),
                    _dates(m.after.planned_start, m.after.planned_finish),
                    "",
                )
                for m in moved
            ],
            widths=(50, 60, 60, 10),
        )

    pdf.rule(keep_with=80)
    pdf.paragraph("Electronic signature", size=12, style="B")
    pdf.paragraph(f'Consent shown and agreed: "{signature.consent_text}"', size=9, style="I")
    pdf.ln(2)
    pdf.fields(
        [
            ("Signed by", signature.signer_name),
            ("Email", signature.signer_email),
            ("Signed in with", signature.auth_method),
            ("Viewed (UTC)", _utc(signature.viewed_at)),
            ("Consented (UTC)", _utc(signature.consented_at)),
            ("Signed (UTC)", _utc(signed_at)),
            ("Signed at", when),
            ("IP address", signature.ip),
            ("User agent", signature.user_agent),
            ("Content SHA-256", signature.content_sha256),
        ],
        mono=frozenset({"Content SHA-256"}),
    )
    pdf.ln(2)
    pdf.paragraph(
        "The content SHA-256 is computed over the canonical JSON of the change order as shown "
        "to the signer (UTF-8, sorted keys, no whitespace), stored when it was sent.",
        size=8,
        muted=True,
    )

    pdf.rule(keep_with=40)
    pdf.paragraph("Audit log", size=12, style="B")
    pdf.paragraph(
        "Each entry's SHA-256 covers the entry and the hash of the entry before it. "
        + (
            f"Checked when this certificate was made: all {verdict.entries} entries hold."
            if verdict.intact
            else f"Checked when this certificate was made: BROKEN at entry {verdict.broken_at} "
            f"({verdict.problem})."
        ),
        size=8,
        muted=True,
    )
    pdf.ln(1)
    for e in entries:
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(
            pdf.epw,
            4,
            latin1(f"{e.seq}. {e.action.replace('_', ' ')} (revision {e.revision})"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_font("Helvetica", size=8)
        pdf.cell(pdf.epw, 4, latin1(f"{_utc(e.occurred_at)}  {e.actor.split(':')[0]}"))
        pdf.ln(4)
        # One line each, so a hash is never broken where a reader would compare it.
        pdf.set_font("Courier", size=7)
        pdf.cell(pdf.epw, 4, e.sha256, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    return pdf.render()


def _dates(start: date | None, finish: date | None) -> str:
    text = " - ".join(str(d) for d in (start, finish) if d)
    return text or "not planned"


def filename(content: SignedContent) -> str:
    return f"{content.project_reference}-{content.number}-certificate.pdf"

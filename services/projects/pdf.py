"""The signed proposal as a PDF, in the suite's branded layout
(`services.chassis.pdf`): the content the client signed, as stored when the
proposal was sent, and a signature block with the evidence.

Money reads as the portal shows it (`chassis.money`), dates on the tenant's
clock (`chassis.timefmt`), with the exact UTC instant kept as evidence. No raw
ids: the signer is named by name and email, the project by its reference.
Deterministic: the same proposal, signature and letterhead give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.chassis.money import format_amount, format_rate
from services.chassis.pdf import BrandedDocument, Heading, Letterhead, latin1
from services.chassis.timefmt import format_datetime
from services.projects.domain_proposals import SignedContent

__all__ = ["Letterhead", "SignatureBlock", "latin1", "render_signed_proposal"]


@dataclass(frozen=True)
class SignatureBlock:
    signer_name: str
    signer_contact_id: str  # kept with the evidence in the database, not printed
    signer_email: str
    signed_at: datetime
    ip: str
    user_agent: str
    content_sha256: str
    consent_text: str


def render_signed_proposal(
    content: SignedContent,
    signature: SignatureBlock,
    letterhead: Letterhead | None = None,
) -> bytes:
    """`letterhead`: the integrator's (`chassis.letterhead.layout`), with the client
    and the site; its time zone is the clock the signing time is shown on."""
    letterhead = letterhead or Letterhead(integrator_name="")
    signed_at = signature.signed_at.astimezone(UTC)
    when = format_datetime(signed_at, letterhead.time_zone)
    pdf = BrandedDocument(
        letterhead,
        Heading(
            title="Signed proposal",
            reference=content.project_reference,
            date_line=f"Signed {when}",
            fingerprint=signature.content_sha256,
        ),
        created_at=signed_at,
    )
    pdf.set_subject(latin1(content.title))

    def money(amount: int) -> str:
        return format_amount(amount, content.currency)

    pdf.paragraph(f"{content.project_reference}  |  {content.project_name}", size=9, muted=True)
    pdf.document_title(content.title, f"Proposal version {content.version}  |  accepted and signed")
    if content.introduction:
        pdf.paragraph(content.introduction)
        pdf.ln(3)

    for room in content.rooms:
        if not room.lines:  # nothing itemised (e.g. the hidden rooms, together): one line
            pdf.heading_line(room.name, money(room.total_minor))
            pdf.ln(3)
            continue
        pdf.heading_line(room.name)
        rows = [
            (line.description, str(line.quantity), money(line.unit_price_minor),
             money(line.line_total_minor))
            for line in room.lines
        ]  # fmt: skip
        if room.other_items_minor:
            rows.append(("Other items", "", "", money(room.other_items_minor)))
        pdf.lines_table(
            ("Item", "Qty", "Unit price", "Amount"),
            rows,
            total=(f"{room.name} total", "", "", money(room.total_minor)),
        )

    rows = [("Labour", money(content.labour_minor))]
    if content.discount_minor:
        rows.append(("Discount", money(-content.discount_minor)))
    rows += [
        ("Subtotal", money(content.subtotal_minor)),
        (f"Tax ({format_rate(content.tax_rate_bps)})", money(content.tax_minor)),
    ]
    pdf.totals(rows, grand=("Total", money(content.total_minor)))

    pdf.rule(keep_with=70)
    pdf.paragraph("Electronic signature", size=12, style="B")
    pdf.paragraph(f'Consent shown and agreed: "{signature.consent_text}"', size=9, style="I")
    pdf.ln(2)
    pdf.fields(
        [
            ("Signed by", signature.signer_name),
            ("Email", signature.signer_email),
            ("Signed at", when),
            ("Signed at (UTC)", signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ("IP address", signature.ip),
            ("User agent", signature.user_agent),
            ("Content SHA-256", signature.content_sha256),
        ],
        mono=frozenset({"Content SHA-256"}),
    )
    pdf.ln(2)
    pdf.paragraph(
        "The SHA-256 is computed over the canonical JSON of the proposal content shown to the "
        "signer (UTF-8, sorted keys, no whitespace) as stored when the proposal was sent; "
        "it identifies exactly what was signed.",
        size=8,
        muted=True,
    )
    return pdf.render()

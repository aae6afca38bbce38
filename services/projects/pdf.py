"""The signed proposal as a PDF (fpdf2): the content the client signed, as
stored when the proposal was sent, and a signature block with the evidence.

Deterministic: the same proposal and signature give the same bytes (the
document's dates are the signing time). Core fonts only (Helvetica, Courier),
so text is reduced to Latin-1 first. Streams are left uncompressed: the
document is small, and its text stays searchable by tools (and tests).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from services.projects.domain_money import format_amount, format_rate
from services.projects.domain_proposals import SignedContent

_PUNCTUATION = {
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2026": "...", "\u2022": "*", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u20ac": "EUR", "\u2122": "(TM)", "\u2192": "->",
    # Letters with no decomposition to a Latin-1 base letter (names matter here).
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i",
    "\u0152": "OE", "\u0153": "oe", "\u0166": "T", "\u0167": "t",
}  # fmt: skip
MARGIN = 15.0
LINE = 5.5


def latin1(text: str) -> str:
    """Text the core fonts can draw: typographic punctuation replaced, accents
    outside Latin-1 dropped to their base letter, anything else "?"."""
    out: list[str] = []
    for ch in text:
        ch = _PUNCTUATION.get(ch, ch)
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            ch = "".join(c for c in base if not unicodedata.combining(c)) or "?"
        out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class SignatureBlock:
    signer_name: str
    signer_contact_id: str
    signer_email: str
    signed_at: datetime
    ip: str
    user_agent: str
    content_sha256: str
    consent_text: str


class _Document(FPDF):
    def __init__(self, reference: str, sha256: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._reference = reference
        self._sha256 = sha256

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(110)
        page = 25
        text = latin1(f"{self._reference}  |  content SHA-256 {self._sha256}")
        self.cell(self.epw - page, 4, text, align="L")
        self.cell(page, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def render_signed_proposal(content: SignedContent, signature: SignatureBlock) -> bytes:
    signed_at = signature.signed_at.astimezone(UTC)
    pdf = _Document(content.project_reference, signature.content_sha256)
    pdf.set_compression(False)
    pdf.set_creation_date(signed_at)
    pdf.set_title(latin1(f"{content.project_reference} proposal v{content.version} (signed)"))
    pdf.set_subject(latin1(content.title))
    pdf.set_creator("Integrator Portal")
    pdf.set_producer("Integrator Portal")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.epw
    money = lambda amount: format_amount(amount, content.currency)  # noqa: E731

    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(90)
    pdf.cell(
        width, LINE, latin1(f"{content.project_reference}  |  {content.project_name}"),
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.set_text_color(0)
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(width, 8, latin1(content.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(
        width, LINE, f"Proposal version {content.version}  |  accepted and signed",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.ln(3)
    if content.introduction:
        pdf.multi_cell(
            width, LINE, latin1(content.introduction), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.ln(3)

    bold = FontFace(emphasis="BOLD")
    for room in content.rooms:
        pdf.set_font("Helvetica", "B", 11)
        if not room.lines:  # nothing itemised (e.g. the hidden rooms, together): one line
            pdf.cell(width - 45, 7, latin1(room.name))
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(45, 7, money(room.total_minor), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(3)
            continue
        pdf.cell(width, 7, latin1(room.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=9)
        with pdf.table(
            col_widths=(96, 14, 35, 35),
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
            borders_layout="HORIZONTAL_LINES",
            headings_style=bold,
            line_height=LINE,
            width=width,
        ) as table:
            table.row(("Item", "Qty", "Unit price", "Amount"))
            for line in room.lines:
                table.row(
                    (
                        latin1(line.description),
                        str(line.quantity),
                        money(line.unit_price_minor),
                        money(line.line_total_minor),
                    )
                )
            if room.other_items_minor:
                table.row(("Other items", "", "", money(room.other_items_minor)))
            total = table.row(style=bold)
            for text in (latin1(f"{room.name} total"), "", "", money(room.total_minor)):
                total.cell(text)
        pdf.ln(3)

    pdf.set_font("Helvetica", size=10)
    rows = [("Labour", money(content.labour_minor))]
    if content.discount_minor:
        rows.append(("Discount", "-" + money(content.discount_minor)))
    rows += [
        ("Subtotal", money(content.subtotal_minor)),
        (f"Tax ({format_rate(content.tax_rate_bps)})", money(content.tax_minor)),
    ]
    for label, amount in rows:
        pdf.cell(width - 45, LINE, label, align="R")
        pdf.cell(45, LINE, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width - 45, 7, "Total", align="R")
    pdf.cell(45, 7, money(content.total_minor), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    _signature_block(pdf, signature, signed_at, width)
    return bytes(pdf.output())


def _signature_block(pdf: FPDF, sig: SignatureBlock, signed_at: datetime, width: float) -> None:
    if pdf.will_page_break(70):
        pdf.add_page()
    pdf.set_draw_color(120)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(width, 8, "Electronic signature", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(
        width, LINE, latin1(f'Consent shown and agreed: "{sig.consent_text}"'), align="L",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.ln(2)
    fields = [
        ("Signed by", sig.signer_name, "Helvetica"),
        ("Contact id", sig.signer_contact_id, "Helvetica"),
        ("Email", sig.signer_email or "-", "Helvetica"),
        ("Signed at (UTC)", signed_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "Helvetica"),
        ("IP address", sig.ip or "-", "Helvetica"),
        ("User agent", sig.user_agent or "-", "Helvetica"),
        ("Content SHA-256", sig.content_sha256, "Courier"),
    ]
    for label, value, font in fields:
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(35, LINE, label)
        pdf.set_font(font, size=9 if font == "Helvetica" else 8)
        pdf.multi_cell(
            width - 35, LINE, latin1(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    pdf.ln(2)
    pdf.set_font("Helvetica", size=8)
    pdf.set_text_color(90)
    pdf.multi_cell(
        width,
        4,
        "The SHA-256 is computed over the canonical JSON of the proposal content shown to the "
        "signer (UTF-8, sorted keys, no whitespace) as stored when the proposal was sent; "
        "it identifies exactly what was signed.",
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_text_color(0)

"""One branded document layout for every PDF the suite renders (the signed
proposal; change-order certificates, invoices and receipts next), on fpdf2.

    header   the integrator's logo (when given as image bytes), name, address
             and contact; the document's title and reference on the right
             (`chassis.letterhead` builds it from the tenant's branding)
    parties  the client's name and the site
    body     what the caller draws: headings, paragraphs, tables of lines,
             a totals block; money already formatted by `chassis.money`
    footer   the reference, an optional fingerprint, "Page n of m"

Dates are the caller's, formatted with `chassis.timefmt` in the tenant's zone.
No raw ids: callers pass human numbers (PRJ-0001, CO-003), never UUIDs.

Deterministic: the same inputs give the same bytes (the creation date is the
document's own date). Core fonts only (Helvetica, Courier), so text is reduced
to Latin-1 first (`latin1`). Streams are left uncompressed: documents are
small and their text stays searchable by tools (and tests).

Cheap to draw (issue 12: a certificate per approval): a line that fits is drawn
as a cell, not through fpdf2's line breaker, and a logo is decoded once per
process; both give the bytes fpdf2 gives without them (tests/unit/test_pdf_layout.py).
"""

from __future__ import annotations

import hashlib
import io
import types
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from fpdf.fonts import FontFace
from fpdf.image_datastructures import RasterImageInfo
from fpdf.image_parsing import get_img_info
from fpdf.util import Padding

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
MUTED = 100
AMOUNT_WIDTH = 45.0
# What a `multi_cell` call may name and still be drawn as a cell (see `multi_cell`).
_PLAIN_MULTI_CELL = frozenset(
    {"align", "new_x", "new_y", "border", "fill", "markdown", "link", "padding", "output",
     "max_line_height", "wrapmode"}
)  # fmt: skip
_NO_PADDING = Padding.new(0)
# Decoded logos by fpdf2's name for their bytes, oldest first; a few tenants' worth.
_LOGOS: dict[str, RasterImageInfo] = {}
_LOGOS_KEPT = 32


def latin1(text: str) -> str:
    """Text the core fonts can draw: typographic punctuation replaced, accents
    outside Latin-1 dropped to their base letter, anything else "?".

    "£" and "¥" are Latin-1 and drawn as they are; "€" is not in the core
    fonts' encoding here, so a euro amount reads "EUR 1,234.56" in a PDF."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "\u20ac" and text[i + 1 : i + 2].isdigit():
            ch = "EUR "  # "€5.00" -> "EUR 5.00", as the money module writes ISO codes
        ch = _PUNCTUATION.get(ch, ch)
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            ch = "".join(c for c in base if not unicodedata.combining(c)) or "?"
        out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Letterhead:
    """Who the document is from and for."""

    integrator_name: str
    address: str = ""  # may span lines
    support_email: str = ""
    support_phone: str = ""
    logo: bytes | None = None  # PNG or JPEG bytes; never fetched from a URL here
    client_name: str = ""
    site: str = ""
    website: str = ""
    time_zone: str = "UTC"  # the tenant's: the document's dates are on its clock


@dataclass(frozen=True)
class Heading:
    """The document's own lines on the right of the header."""

    title: str  # "Signed proposal"
    reference: str  # "PRJ-0001"
    date_line: str = ""  # "Signed 2 Dec 2025, 14:05 GMT"
    fingerprint: str = ""  # e.g. a content SHA-256 for the footer


class BrandedDocument(FPDF):
    """An A4 page in the integrator's letterhead; the caller fills the body."""

    def __init__(self, letterhead: Letterhead, heading: Heading, *, created_at: datetime) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.letterhead = letterhead
        self.heading = heading
        self.set_compression(False)
        self.set_creation_date(created_at)
        self.set_title(latin1(f"{heading.reference} {heading.title}"))
        self.set_author(latin1(letterhead.integrator_name))
        self.set_creator("Integrator Portal")
        self.set_producer("Integrator Portal")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        if letterhead.logo:
            self._seed_logo(letterhead.logo)
        self.add_page()
        self._parties()

    def _seed_logo(self, logo: bytes) -> None:
        """Give this document the logo already decoded: fpdf2 decodes an image once per
        document (PIL, then zlib), a tenant's every PDF draws the same logo, and it was
        a tenth of a certificate's CPU. A copy each time, as fpdf2 writes its per-document
        numbers (index, uses, object id, drawn size) into it; `image()` finds it by the
        name fpdf2 gives image bytes (their MD5), so a logo with other bytes is its own."""
        name = hashlib.md5(logo.strip(), usedforsecurity=False).hexdigest()
        info = _LOGOS.get(name)
        if info is None:
            info = get_img_info(name, io.BytesIO(logo), self.image_cache.image_filter)
            if info.get("iccp") is not None:
                return  # an ICC profile is numbered per document: let fpdf2 do it
            if len(_LOGOS) >= _LOGOS_KEPT:
                _LOGOS.pop(next(iter(_LOGOS)))
            _LOGOS[name] = info
        self.image_cache.images[name] = type(info)(info, i=1, usages=0, iccp_i=None)

    # -- fixed parts -----------------------------------------------------------------

    def header(self) -> None:
        lh, top = self.letterhead, self.t_margin
        x = self.l_margin
        if lh.logo:
            # Within 50 x 14 mm whatever its shape, so a wide logo cannot reach the name.
            drawn = self.image(io.BytesIO(lh.logo), x=x, y=top, w=50, h=14, keep_aspect_ratio=True)
            x += float(drawn.rendered_width) + 5
        # The left block wraps before the title block on the right (70 mm and a gap).
        width = self.w - self.r_margin - 74 - x
        self.set_xy(x, top)
        self.set_font("Helvetica", "B", 13)
        self.multi_cell(
            width, 6, latin1(lh.integrator_name), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT
        )
        self.set_font("Helvetica", size=8)
        self.set_text_color(MUTED)
        parts = [p.strip() for p in (lh.support_email, lh.support_phone, lh.website) if p.strip()]
        contact = ["  |  ".join(parts)]
        if self.get_string_width(latin1(contact[0])) > width:
            contact = parts  # one a line rather than a phone number broken in two
        for line in [*lh.address.splitlines(), *contact]:
            if line.strip():
                self.multi_cell(
                    width, 4, latin1(line.strip()), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT
                )
        bottom = max(self.get_y(), top + 15)
        self.set_xy(self.w - self.r_margin - 70, top)
        self.set_text_color(0)
        self.set_font("Helvetica", "B", 11)
        self.cell(70, 6, latin1(self.heading.title), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font("Helvetica", size=9)
        for line in (self.heading.reference, self.heading.date_line):
            if line:
                self.cell(70, 4.5, latin1(line), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, self.get_y()) + 3
        self.set_draw_color(170)
        self.line(self.l_margin, bottom, self.w - self.r_margin, bottom)
        self.set_text_color(0)
        self.set_xy(self.l_margin, bottom + 4)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(110)
        page = 25
        room = self.epw - page - 2  # a gap before "Page n of m"
        parts = [self.letterhead.integrator_name, self.heading.reference]
        fingerprint = self.heading.fingerprint
        if fingerprint:
            parts.append(f"content SHA-256 {fingerprint}")
        text = latin1("  |  ".join(p for p in parts if p))
        if fingerprint and self.get_string_width(text) > room:
            # A long name leaves no room for the whole hash: its ends still identify
            # the content on every page, and the signature block prints it in full.
            parts[-1] = f"content SHA-256 {fingerprint[:12]}...{fingerprint[-6:]}"
            text = latin1("  |  ".join(p for p in parts if p))
        while self.get_string_width(text) > room and len(text) > 4:
            text = text[:-4] + "..."
        self.cell(self.epw - page, 4, text, align="L")
        self.cell(page, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)

    def _parties(self) -> None:
        rows = [("Client", self.letterhead.client_name), ("Site", self.letterhead.site)]
        rows = [(label, value) for label, value in rows if value.strip()]
        for label, value in rows:
            self.set_font("Helvetica", "B", 9)
            self.cell(20, LINE, label)
            self.set_font("Helvetica", size=9)
            self.multi_cell(
                self.epw - 20, LINE, latin1(" ".join(value.split())),
                new_x=XPos.LMARGIN, new_y=YPos.NEXT,
            )  # fmt: skip
        if rows:
            self.ln(3)

    def multi_cell(  # type: ignore[override]
        self, w: float, h: float | None = None, text: str = "", **kwargs: Any
    ) -> Any:
        """fpdf2's `multi_cell`, but text that fits on one line is drawn as a `cell`,
        which gives the same bytes. Why: the line breaker re-measures the whole line
        for every character it adds (quadratic in the line's length), and the table
        calls it twice a cell (to measure, then to draw); it was most of a certificate's
        CPU. Only the plain calls this layout and `FPDF.table` make take the short way;
        the small allowance leaves a line at the very edge to the line breaker."""
        output = MethodReturnValue.coerce(kwargs.get("output", MethodReturnValue.PAGE_BREAK))
        if (
            h is not None
            and set(kwargs) <= _PLAIN_MULTI_CELL
            and not any(kwargs.get(k) for k in ("border", "fill", "markdown", "link"))
            and Padding.new(kwargs.get("padding") or 0) == _NO_PADDING
            and output & ~(MethodReturnValue.PAGE_BREAK | MethodReturnValue.HEIGHT) == 0
            and "\n" not in text
            and self.get_string_width(text) < w - 2 * self.c_margin - 0.01
        ):
            align = Align.coerce(kwargs.get("align", Align.J))
            if self._measuring():
                page_break = False  # the table ignores it when measuring; the height is h
            else:
                page_break = self.cell(
                    w, h, text,
                    align=Align.L if align == Align.J else align,
                    new_x=kwargs.get("new_x", XPos.RIGHT),
                    new_y=kwargs.get("new_y", YPos.NEXT),
                )  # fmt: skip
            values: tuple[bool | float, ...] = ()
            if output & MethodReturnValue.PAGE_BREAK:
                values += (page_break,)
            if output & MethodReturnValue.HEIGHT:
                values += (float(h),)
            return values[0] if len(values) == 1 else values
        return super().multi_cell(w, h, text, **kwargs)

    def _measuring(self) -> bool:
        """fpdf2's table measures every row before drawing it: each cell drawn with
        writing off (`_disable_writing` swaps `_out` for a no-op), the position put
        back after, only the height kept. A line that fits is `h` high whatever
        drawing it would do, so the measuring pass need not draw it (a third of a
        certificate's CPU)."""
        return not isinstance(self._out, types.MethodType)

    # -- the body's building blocks ----------------------------------------------------

    def document_title(self, text: str, subtitle: str = "") -> None:
        self.set_font("Helvetica", "B", 16)
        self.multi_cell(self.epw, 8, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.set_font("Helvetica", size=10)
            self.cell(self.epw, LINE, latin1(subtitle), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def paragraph(
        self, text: str, *, size: float = 10, style: str = "", muted: bool = False
    ) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(MUTED if muted else 0)
        self.multi_cell(
            self.epw, LINE if size >= 9 else 4, latin1(text), align="L",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )  # fmt: skip
        self.set_text_color(0)

    def heading_line(self, text: str, amount: str = "") -> None:
        """A section heading, with an amount on the right when the section is one line."""
        self.set_font("Helvetica", "B", 11)
        if amount:
            self.cell(self.epw - AMOUNT_WIDTH, 7, latin1(text))
            self.set_font("Helvetica", "B", 9)
            self.cell(
                AMOUNT_WIDTH, 7, latin1(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        else:
            self.cell(self.epw, 7, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def lines_table(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        total: Sequence[str] | None = None,
        widths: Sequence[float] = (96, 14, 35, 35),
        text_columns: int = 1,
    ) -> None:
        """A table of lines: the first `text_columns` left (descriptions, dates),
        the rest (quantities, money) right. Headings repeat on every page."""
        bold = FontFace(emphasis="BOLD")
        self.set_font("Helvetica", size=9)
        aligns = tuple("LEFT" if i < text_columns else "RIGHT" for i in range(len(headings)))
        with self.table(
            col_widths=tuple(widths),
            text_align=aligns,
            borders_layout="HORIZONTAL_LINES",
            headings_style=bold,
            line_height=LINE,
            width=self.epw,
        ) as table:
            table.row([latin1(h) for h in headings])
            for row in rows:
                table.row([latin1(cell) for cell in row])
            if total is not None:
                last = table.row(style=bold)
                for cell in total:
                    last.cell(latin1(cell))
        self.ln(3)

    def totals(self, rows: Sequence[tuple[str, str]], *, grand: tuple[str, str]) -> None:
        """Label and amount pairs, right-aligned, the last one in bold."""
        self.set_font("Helvetica", size=10)
        for label, amount in rows:
            self.cell(self.epw - AMOUNT_WIDTH, LINE, latin1(label), align="R")
            self.cell(
                AMOUNT_WIDTH, LINE, latin1(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        self.set_font("Helvetica", "B", 11)
        self.cell(self.epw - AMOUNT_WIDTH, 7, latin1(grand[0]), align="R")
        self.cell(AMOUNT_WIDTH, 7, latin1(grand[1]), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(6)

    def fields(
        self, rows: Sequence[tuple[str, str]], *, mono: frozenset[str] = frozenset()
    ) -> None:
        """Label / value pairs (a signature block's evidence); `mono` labels in Courier."""
        for label, value in rows:
            self.set_font("Helvetica", "B", 9)
            self.cell(35, LINE, latin1(label))
            if label in mono:
                self.set_font("Courier", size=8)
            else:
                self.set_font("Helvetica", size=9)
            self.multi_cell(
                self.epw - 35, LINE, latin1(value or "-"), align="L",
                new_x=XPos.LMARGIN, new_y=YPos.NEXT,
            )  # fmt: skip

    def rule(self, *, keep_with: float = 0) -> None:
        """A horizontal rule; first a new page if `keep_with` mm would not fit below it."""
        if keep_with and self.will_page_break(keep_with):
            self.add_page()
        self.set_draw_color(120)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.ln(2)

    def render(self) -> bytes:
        return bytes(self.output())

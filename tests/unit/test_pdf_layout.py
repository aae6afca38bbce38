"""The branded layout draws a line that fits as a cell rather than through
fpdf2's line breaker (which is quadratic per line): the bytes must be those
fpdf2's own `multi_cell` gives, wrapped lines, tables and page breaks included;
the logo is decoded once per process, not per document, to the same bytes;
and each tenant's document wears its own letterhead."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from services.chassis.pdf import BrandedDocument, Heading, Letterhead
from tests.brand_images import image_bytes

WHEN = datetime(2031, 3, 2, 10, 30, tzinfo=UTC)


def _draw(letterhead: Letterhead) -> bytes:
    doc = BrandedDocument(
        letterhead, Heading("Change order certificate", "PRJ-0001 CO-001", "Approved 2 Mar 2031"),
        created_at=WHEN,
    )  # fmt: skip
    doc.document_title("CO-001: Second subwoofer", "Revision 1")
    doc.paragraph("The client asked for a second subwoofer after the survey. " * 6)  # wraps
    doc.paragraph("Short and muted", size=8, muted=True)
    for room in range(6):  # enough rows for page breaks inside tables
        doc.heading_line(f"Room {room}", "£1,350.00")
        rows = [
            (f"Premium in-wall speaker {i} " * (1 + i % 4), "2", "3", "£450.00") for i in range(8)
        ]
        doc.lines_table(("Item", "Before", "After", "Change"), rows, total=("Room", "", "", "£9"))
    doc.totals([("Signed proposal", "£14,400.00")], grand=("Contract", "£16,200.00"))
    doc.fields([("Signed by", "Jane Harrison"), ("User agent", "Mozilla/5.0 " * 12)])
    return doc.render()


LETTERHEAD = Letterhead(
    integrator_name="Acme Home Cinema and Smart Home Installations Ltd",  # wraps in the header
    address="1 High Street\nLondon",
    support_email="studio@acme.example",
    logo=image_bytes(),
    client_name="The Harrison Residence",
    site="12 Elm Road, Richmond",
)


def test_the_one_line_shortcut_draws_the_bytes_fpdf2s_multi_cell_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"line breaker": 0}
    plain_multi_cell = FPDF.multi_cell

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["line breaker"] += 1
        return plain_multi_cell(self, *args, **kwargs)

    monkeypatch.setattr(FPDF, "multi_cell", counted)
    shortcut = _draw(LETTERHEAD)
    through_the_breaker = calls["line breaker"]
    monkeypatch.setattr(BrandedDocument, "multi_cell", counted)
    plain = _draw(LETTERHEAD)
    assert shortcut == plain
    assert through_the_breaker < calls["line breaker"] - through_the_breaker  # it was taken


def test_a_table_s_measuring_pass_draws_no_line_that_fits_and_the_bytes_stay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = {"cells": 0}
    plain_cell = FPDF.cell

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        drawn["cells"] += 1
        return plain_cell(self, *args, **kwargs)

    monkeypatch.setattr(FPDF, "cell", counted)
    skipping = _draw(LETTERHEAD)
    cells_skipping = drawn["cells"]
    drawn["cells"] = 0
    monkeypatch.setattr(BrandedDocument, "_measuring", lambda self: False)
    measuring = _draw(LETTERHEAD)
    assert skipping == measuring
    # Six tables of ten rows of four cells: the measuring pass drew most of them too.
    assert drawn["cells"] - cells_skipping >= 6 * 10 * 4 - 40


def test_each_tenant_s_document_wears_its_own_letterhead() -> None:
    red = Letterhead(integrator_name="Red Cinema Co", logo=image_bytes(color=(200, 0, 0)))
    blue = Letterhead(integrator_name="Blue Audio Ltd", logo=image_bytes(color=(0, 0, 200)))
    drawn = {lh.integrator_name: _draw(lh) for lh in (red, blue, red)}
    for name, other in (("Red Cinema Co", "Blue Audio Ltd"), ("Blue Audio Ltd", "Red Cinema Co")):
        text = PdfReader(io.BytesIO(drawn[name])).pages[0].extract_text()
        assert name in text and other not in text
    assert drawn["Red Cinema Co"] == _draw(red)  # drawing blue in between changed nothing
    images = [PdfReader(io.BytesIO(drawn[n])).pages[0].images[0].data for n in drawn]
    assert images[0] != images[1]


def test_a_logo_decoded_once_draws_the_bytes_fpdf2_decoding_it_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, again = _draw(LETTERHEAD), _draw(LETTERHEAD)  # decoded, then from the process's
    monkeypatch.setattr(BrandedDocument, "_seed_logo", lambda self, logo: None)
    assert first == again == _draw(LETTERHEAD)

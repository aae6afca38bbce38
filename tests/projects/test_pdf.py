"""The signed PDF: what was signed, the evidence, the same bytes every time."""

import io
import re
import zlib
from dataclasses import replace
from datetime import UTC, datetime

from pypdf import PdfReader

from services.chassis.money import format_amount
from services.projects import domain_proposals as dp
from services.projects.pdf import Letterhead, SignatureBlock, latin1, render_signed_proposal


def _png_logo() -> bytes:
    """A 60x20 accent-coloured PNG, built by hand so the test needs no image library."""
    width, height = 60, 20
    raw = b"".join(b"\x00" + b"\x1f\x6f\xeb" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


ROOMS = (
    dp.SnapshotRoom(
        "Living room \u2013 main",
        True,
        (
            dp.SnapshotLine("Sonos", "Arc", "\u201cCinema\u201d soundbar", 2, 89_900, True),
            dp.SnapshotLine("", "Cable set", "", 4, 2_499, False),
        ),
    ),
    dp.SnapshotRoom("Rack", False, (dp.SnapshotLine("", "Switch", "", 1, 45_000, True),)),
)
CONTENT = dp.signed_content(
    project_reference="PRJ-0042",
    project_name="Müller residence \u2014 Zürich",
    version=3,
    currency="USD",
    rooms=ROOMS,
    terms=dp.Terms("Cinema \u2026 and audio", "Room by room.", 50_000, 1_000, 825),
)
SIGNATURE = SignatureBlock(
    signer_name="Zoë Łukasz 山田",
    signer_contact_id="c0ffee00-0000-4000-8000-000000000001",
    signer_email="",
    signed_at=datetime(2026, 3, 10, 14, 30, 5, tzinfo=UTC),
    ip="203.0.113.7",
    user_agent="Mozilla/5.0 (X11; Linux x86_64)",
    content_sha256=CONTENT.sha256(),
    consent_text=dp.CONSENT_TEXT,
)


def test_text_is_reduced_to_latin1_for_the_core_fonts():
    assert (
        latin1("A \u2013 B \u2014 \u201cC\u201d \u2018d\u2019 e\u2026") == "A - B - \"C\" 'd' e..."
    )
    assert latin1("Zoë Müller") == "Zoë Müller"  # Latin-1 already
    assert latin1("Łukasz Dvořák") == "Lukasz Dvorák"  # base letters where there are any
    assert latin1("山田") == "??"
    assert latin1("\u20ac 5") == "EUR 5"


def test_the_pdf_holds_the_content_and_the_evidence():
    document = render_signed_proposal(CONTENT, SIGNATURE)
    assert document.startswith(b"%PDF-")
    for text in (
        b"PRJ-0042",
        b'Sonos Arc - "Cinema" soundbar',
        b"Other items",
        b"$1,798.00",
        b"$3,072.09",  # the total: 283,796 after discount, + 8.25 % tax (23,413.17)
        b"Zo\xeb Lukasz ??",
        b"2026-03-10T14:30:05Z",
        b"203.0.113.7",
        b"Mozilla/5.0 \\(X11; Linux x86_64\\)",  # parentheses escaped in PDF strings
        CONTENT.sha256().encode(),
    ):
        assert text in document, text
    # What the integrator keeps internal is not itemised.
    assert b"Cable set" not in document and b"Switch" not in document
    assert CONTENT.total_minor == 307_209


def test_the_same_signature_gives_the_same_bytes():
    assert render_signed_proposal(CONTENT, SIGNATURE) == render_signed_proposal(CONTENT, SIGNATURE)
    assert b"D:20260310143005" in render_signed_proposal(CONTENT, SIGNATURE)


def test_a_long_proposal_runs_over_pages():
    many = dp.signed_content(
        project_reference="PRJ-0043",
        project_name="Big house",
        version=1,
        currency="USD",
        rooms=tuple(
            dp.SnapshotRoom(
                f"Room {n}",
                True,
                tuple(dp.SnapshotLine("", f"Speaker {k}", "", 1, 10_000, True) for k in range(8)),
            )
            for n in range(12)
        ),
        terms=dp.Terms("Everything", "", 0, 0, 0),
    )
    document = render_signed_proposal(many, SIGNATURE)
    assert b"Page 3 of" in document or b"/Count 3" in document or b"/Count 4" in document


# -- the branded layout ------------------------------------------------------------------

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LETTERHEAD = Letterhead(
    integrator_name="Northlight AV Ltd",
    address="12 Wharf Road\nLondon N1 7GR",
    support_email="hello@northlight.example",
    support_phone="+44 20 7946 0000",
    website="https://northlight.example",
    logo=_png_logo(),
    client_name="Eleanor Vance",
    site="Hill House, 1 Crain Lane, Bath",
    time_zone="Europe/London",
)


def _text(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def test_the_branded_pdf_names_both_parties_and_no_raw_id():
    signed = replace(SIGNATURE, signer_email="eleanor@example.com")
    document = render_signed_proposal(CONTENT, signed, LETTERHEAD)
    text = _text(document)
    for expected in (
        "Northlight AV Ltd",
        "12 Wharf Road",
        "hello@northlight.example",
        "+44 20 7946 0000",
        "https://northlight.example",
        "Eleanor Vance",
        "Hill House, 1 Crain Lane, Bath",
        "eleanor@example.com",
        "$3,072.09",
        "10 Mar 2026, 14:30 GMT",  # the tenant's clock
        "Page 1 of",
    ):
        assert expected in text, expected
    assert _UUID.search(document) is None  # the contact id is evidence in the database only
    assert b"/Subtype /Image" in document  # the logo


def test_a_jpy_and_a_gbp_proposal_read_as_the_portal_writes_them():
    for currency, minor, shown in (("JPY", 123_456, "¥123,456"), ("GBP", 123_456, "£1,234.56")):
        rooms = (
            dp.SnapshotRoom("Cinema", True, (dp.SnapshotLine("", "Screen", "", 1, minor, True),)),
        )
        content = dp.signed_content(
            project_reference="PRJ-0050",
            project_name="Abroad",
            version=1,
            currency=currency,
            rooms=rooms,
            terms=dp.Terms("Screen", "", 0, 0, 0),
        )
        text = _text(render_signed_proposal(content, SIGNATURE, LETTERHEAD))
        assert shown in text, (currency, text)
        assert format_amount(minor, currency) == shown

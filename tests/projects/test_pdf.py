"""The signed PDF: what was signed, the evidence, the same bytes every time."""

from datetime import UTC, datetime

from services.projects import domain_proposals as dp
from services.projects.pdf import SignatureBlock, latin1, render_signed_proposal

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
        b"USD 1,798.00",
        b"USD 3,072.09",  # the total: 283,796 after discount, + 8.25 % tax (23,413.17)
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

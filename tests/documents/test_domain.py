"""Pure rules: file names, sniffing against the allow-list, ranges, link tokens."""

from __future__ import annotations

import pytest

from services.chassis.errors import InvalidArgument, OutOfRange, Unauthenticated
from services.documents import domain

ZIP_DOCX = (
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"\x00" * 20 + b"[Content_Types].xml" + b"\x00" * 50
)
ZIP = b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 20 + b"photos/one.jpg"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\me\\plan.pdf", "plan.pdf"),
        ("bad\x00name\x1f.pdf", "badname.pdf"),
        ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),  # NFC
        ("  spaced.pdf  ", "spaced.pdf"),
    ],
)
def test_sanitize_filename_keeps_only_a_clean_basename(raw: str, clean: str) -> None:
    assert domain.sanitize_filename(raw) == clean


def test_sanitize_filename_bounds_the_length_and_keeps_the_extension() -> None:
    name = domain.sanitize_filename("a" * 500 + ".pdf")
    assert len(name) == domain.MAX_FILENAME_CHARS
    assert name.endswith(".pdf")


def test_sanitize_filename_refuses_an_empty_name() -> None:
    with pytest.raises(InvalidArgument):
        domain.sanitize_filename("../\x00/")


@pytest.mark.parametrize(
    "name",
    ["invoice.pdf.exe", "setup.exe", "run.bat", "photo.jpg.pdf", "script.js", "page.html", "noext"],
)
def test_executables_double_extensions_and_unknown_types_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument):
        domain.extension_of(name)


def test_ordinary_dotted_names_pass() -> None:
    assert domain.extension_of("floor.plan.v1.2.PDF") == "pdf"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.4\n", "pdf"),
        (b"\x89PNG\r\n\x1a\n....", "png"),
        (b"\xff\xd8\xff\xe0..JFIF", "jpeg"),
        (b"GIF89a....", "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (ZIP_DOCX, "ooxml"),
        (ZIP, "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8, "ole"),
        (b"AC1032\x00\x00", "dwg"),
        ("Wiring notes: caf\u00e9\n".encode(), "text"),
        (b"MZ\x90\x00\x03\x00", None),  # a Windows executable
        (b"\x7fELF\x02\x01\x01\x00", None),
        (b"\xff\xfe\x00bad", None),
    ],
)
def test_sniff_recognises_allowed_types_only(head: bytes, kind: str | None) -> None:
    assert domain.sniff(head) == kind


def test_text_sniffing_tolerates_a_character_cut_at_the_window_edge() -> None:
    assert domain.sniff("\u00e9".encode()[:1]) == "text"


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("plan.pdf", b"\x89PNG\r\n\x1a\n"),  # a PNG pretending to be a PDF
        ("report.docx", ZIP),  # a zip without [Content_Types].xml
        ("notes.txt", b"%PDF-1.4"),
        ("drawing.dwg", b"MZ\x90\x00"),
    ],
)
def test_extension_must_agree_with_the_bytes(name: str, head: bytes) -> None:
    with pytest.raises(InvalidArgument):
        domain.check_content(name, head)


def test_check_content_gives_the_type_of_the_extension() -> None:
    assert domain.check_content("spec.docx", ZIP_DOCX).startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    assert domain.check_content("plan.pdf", b"%PDF-1.7") == "application/pdf"


def test_zero_bytes_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="empty"):
        domain.check_content("plan.pdf", b"")


def test_declared_size_over_the_limit_is_refused_with_a_clear_message() -> None:
    limit = 200 * domain.MIB
    domain.check_declared_size(limit, limit)
    with pytest.raises(InvalidArgument, match="larger than the 200 MB limit"):
        domain.check_declared_size(limit + 1, limit)


@pytest.mark.parametrize(
    ("offset", "length", "has", "expected"),
    [
        (0, 0, False, (0, 100)),
        (0, 1, True, (0, 1)),  # bytes=0-0: one byte, never the whole file
        (10, 10, True, (10, 20)),
        (90, 10, True, (90, 100)),
        (99, 1, True, (99, 100)),
    ],
)
def test_a_window_is_exactly_the_bytes_asked_for(
    offset: int, length: int, has: bool, expected: tuple[int, int]
) -> None:
    assert domain.byte_window(offset, length, has, 100) == expected


@pytest.mark.parametrize(
    ("offset", "length"), [(100, 1), (90, 11), (0, 0), (-1, 5), (5, -1), (0, 2**62)]
)
def test_a_window_that_does_not_fit_is_out_of_range_not_clamped(offset: int, length: int) -> None:
    with pytest.raises(OutOfRange, match="the file has 100 bytes"):
        domain.byte_window(offset, length, True, 100)


CLAIMS = domain.LinkClaims("d", "v", "t", "s", "client", "c", expires_at=1_000)


def test_a_signed_link_verifies_until_it_expires() -> None:
    token = domain.sign_link(CLAIMS, b"k" * 32)
    assert domain.verify_link(token, b"k" * 32, now=999) == CLAIMS
    with pytest.raises(Unauthenticated, match="expired"):
        domain.verify_link(token, b"k" * 32, now=1_000)


def test_a_forged_or_altered_link_is_refused() -> None:
    token = domain.sign_link(CLAIMS, b"k" * 32)
    with pytest.raises(Unauthenticated):
        domain.verify_link(token, b"x" * 32, now=0)
    _, mac = token.split(".")
    other = domain.sign_link(
        domain.LinkClaims("d2", "v", "t", "s", "client", "c", 1_000), b"k" * 32
    ).split(".")[0]
    with pytest.raises(Unauthenticated):
        domain.verify_link(f"{other}.{mac}", b"k" * 32, now=0)
    with pytest.raises(Unauthenticated):
        domain.verify_link("garbage", b"k" * 32, now=0)


@pytest.mark.parametrize("what", ["document", "version", "project", "folder"])
def test_not_found_speaks_plainly_and_names_the_field(what: str) -> None:
    error = domain.not_found(what)
    assert error.message.startswith("This ") and "isn't available" in error.message
    assert "no such" not in error.message and "_id" not in error.message
    assert error.field == f"{what}_id"

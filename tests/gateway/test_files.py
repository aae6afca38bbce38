"""Downloads as pure functions: Content-Disposition and the gateway's sealed
download link (the Range header: test_ranges.py)."""

from __future__ import annotations

from urllib.parse import unquote

from gateway import files

SECRET = b"k" * 32


def _parts(value: str) -> tuple[str, str, str]:
    kind, plain, exact = (p.strip() for p in value.split("; "))
    assert plain.startswith('filename="') and plain.endswith('"')
    assert exact.startswith("filename*=UTF-8''")
    return kind, plain[len('filename="') : -1], exact[len("filename*=UTF-8''") :]


def test_content_disposition_keeps_unicode_exactly_and_gives_an_ascii_fallback() -> None:
    kind, plain, exact = _parts(files.content_disposition("Übergabe \u2013 Café Ñandú.pdf"))
    assert kind == "attachment"
    assert plain == "Ubergabe _ Cafe Nandu.pdf"
    assert unquote(exact) == "Übergabe \u2013 Café Ñandú.pdf"
    assert exact.isascii() and " " not in exact


def test_quotes_semicolons_and_backslashes_cannot_break_the_header() -> None:
    name = 'a"b;c\\d; filename="evil.exe".pdf'
    value = files.content_disposition(name)
    kind, plain, exact = _parts(value)
    assert kind == "attachment"
    assert '"' not in plain and ";" not in plain and "\\" not in plain
    assert value.count('"') == 2 and value.count(";") == 2
    assert unquote(exact) == 'd; filename="evil.exe".pdf'  # the part after the last separator


def test_paths_and_control_characters_are_dropped() -> None:
    assert files.safe_filename("../../etc/passwd") == "passwd"
    assert files.safe_filename("C:\\Users\\x\\plan.pdf") == "plan.pdf"
    assert files.safe_filename("bad\r\nname.pdf") == "badname.pdf"
    assert files.safe_filename("") == files.safe_filename("..") == "download"
    assert "\r" not in files.content_disposition("x\r\nSet-Cookie: a=b")


def test_a_name_in_another_script_falls_back_to_download_with_its_extension() -> None:
    _, plain, exact = _parts(files.content_disposition("説明書.pdf"))
    assert plain == "download.pdf"
    assert unquote(exact) == "説明書.pdf"


def test_only_plain_media_types_are_served() -> None:
    assert files.safe_media_type("application/pdf") == "application/pdf"
    assert files.safe_media_type("Text/Plain; charset=utf-8") == "text/plain"
    for bad in ("", "text/html\r\nX: y", "pdf", "a/b/c", "text/plain,text/html"):
        assert files.safe_media_type(bad) == "application/octet-stream"


def _link(**extra) -> files.DownloadLink:
    fields = {
        "token": "svc-token",
        "tenant_id": "t-1",
        "filename": "Guide ü.pdf",
        "content_type": "application/pdf",
        "size": 1234,
        "expires_at": 2_000,
    }
    return files.DownloadLink(**(fields | extra))


def test_a_sealed_link_opens_for_its_tenant_until_it_expires() -> None:
    sealed = files.seal_link(SECRET, _link())
    assert "/" not in sealed and "+" not in sealed
    assert files.open_link(SECRET, sealed, tenant_id="t-1", now=1_999) == _link()
    assert files.open_link(SECRET, sealed, tenant_id="t-2", now=1_999) is None
    assert files.open_link(SECRET, sealed, tenant_id="t-1", now=2_001) is None
    assert files.open_link(b"x" * 32, sealed, tenant_id="t-1", now=1_999) is None


def test_a_forged_or_altered_link_does_not_open() -> None:
    sealed = files.seal_link(SECRET, _link())
    payload, mac = sealed.rsplit(".", 1)
    forged = files.seal_link(SECRET, _link(size=99)).rsplit(".", 1)[0] + "." + mac
    for value in ("", "nonsense", "a.b", forged, payload + ".", "." + mac, sealed + "x"):
        assert files.open_link(SECRET, value, tenant_id="t-1", now=0) is None


def test_sizes_and_kinds_read_well() -> None:
    assert [files.human_size(n) for n in (0, 1, 1023, 1536, 5 * 1024**2, 42 * 1024**2)] == [
        "0 bytes",
        "1 byte",
        "1023 bytes",
        "1.5 KB",
        "5.0 MB",
        "42 MB",
    ]
    assert files.file_kind("application/pdf", "x.bin") == "PDF"
    assert files.file_kind("application/octet-stream", "plan.dwg") == "DWG"
    assert files.file_kind("", "README") == "File"

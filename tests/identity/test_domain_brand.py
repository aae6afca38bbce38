"""What identity accepts as a logo or a splash image (pure rules)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from services.chassis.errors import InvalidArgument
from services.identity import domain_brand
from services.identity.domain_brand import ImageTooLarge
from tests.brand_images import SVG, image_bytes


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
def test_png_jpeg_and_webp_are_accepted_by_their_bytes(fmt, content_type):
    image = domain_brand.inspect("logo", image_bytes(400, 100, fmt=fmt))
    assert (image.content_type, image.width, image.height) == (content_type, 400, 100)
    assert image.print_png is not None and image.print_png.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "svg",
    [SVG, b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", b"<!DOCTYPE svg><svg/>"],
)
def test_svg_is_refused_by_name(svg):
    with pytest.raises(InvalidArgument, match="SVG"):
        domain_brand.sniff(svg)


def test_a_logo_keeps_its_transparency_in_the_print_copy():
    image = domain_brand.inspect("logo", image_bytes(1200, 300, alpha=True))
    copy = Image.open(io.BytesIO(image.print_png or b""))
    assert copy.mode == "RGBA" and copy.size == (600, 150)


def test_a_small_logo_is_not_enlarged_for_print():
    image = domain_brand.inspect("logo", image_bytes(120, 40))
    assert Image.open(io.BytesIO(image.print_png or b"")).size == (120, 40)


def test_the_size_limit_is_checked_as_bytes_arrive():
    domain_brand.check_size("logo", 2 * 1024 * 1024)
    with pytest.raises(ImageTooLarge) as err:
        domain_brand.check_size("logo", 2 * 1024 * 1024 + 1)
    assert err.value.code == "file_too_large" and err.value.field == "file"
    domain_brand.check_size("splash", 5 * 1024 * 1024)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_huge_canvas_is_refused_before_it_is_decoded():
    with pytest.raises(InvalidArgument, match="9000 x 3000 pixels; it may be at most 8000"):
        domain_brand.inspect("splash", _png_claiming(9_000, 3_000))
    with pytest.raises(InvalidArgument, match="too many pixels"):  # past Pillow's own guard
        domain_brand.inspect("splash", _png_claiming(50_000, 50_000))


def test_an_empty_file_or_an_unknown_kind_is_refused():
    with pytest.raises(InvalidArgument, match="empty"):
        domain_brand.inspect("logo", b"")
    with pytest.raises(InvalidArgument) as err:
        domain_brand.inspect("favicon", image_bytes())
    assert err.value.field == "kind"


def test_the_audit_line_names_the_image_in_the_admins_words():
    logo = domain_brand.BrandImage("logo", "image/png", "ab", 10, 320, 80, None)
    assert domain_brand.upload_detail("logo", logo) == "uploaded a logo (image/png, 320 x 80 px)"
    splash = domain_brand.BrandImage("splash", "image/jpeg", "cd", 10, 1920, 1080, None)
    assert domain_brand.upload_detail("splash", splash).startswith("uploaded a sign-in image (")

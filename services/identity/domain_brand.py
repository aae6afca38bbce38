"""Uploaded brand images: what identity accepts as a logo or a splash image.
Pure: bytes in, a checked description (and a letterhead-sized copy of a logo) out.

- The type is sniffed from the bytes (PNG, JPEG, WebP), never taken from the
  declared Content-Type or the name, and Pillow must agree when it parses it.
- SVG is refused: it is a document that can carry script, and the portal shows
  brand images on its own host to every visitor.
- Size is capped while the bytes arrive (`check_size`), and the pixel
  dimensions are read from the header before anything is decoded, so a small
  file that claims a huge canvas (a decompression bomb) is refused unopened.
- A logo also gets a PNG copy at most 600 x 168 px (50 x 14 mm at 300 dpi,
  the letterhead's logo box), which documents draw: small enough to travel in
  an event, in a format the PDF library reads, whatever was uploaded.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from services.chassis.errors import InvalidArgument

MIB = 1024 * 1024
PRINT_BOX = (600, 168)
FIELD = "file"
_PILLOW_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_NAMES = {"logo": "the logo", "splash": "the sign-in image"}


class ImageTooLarge(InvalidArgument):
    """Over the size limit: documents' stable code, so the gateway answers 413."""

    code = "file_too_large"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    min_width: int
    min_height: int
    max_side: int
    max_pixels: int


LIMITS = {
    # A wide logo about 60 px tall is shown; 32 px is the least that stays legible.
    "logo": Limits(max_bytes=2 * MIB, min_width=32, min_height=32, max_side=4096,
                   max_pixels=16_000_000),
    # A landscape photo beside the sign-in form, up to a 4K-wide screen and then some.
    "splash": Limits(max_bytes=5 * MIB, min_width=640, min_height=320, max_side=8000,
                     max_pixels=40_000_000),
}  # fmt: skip


@dataclass(frozen=True)
class BrandImage:
    kind: str
    content_type: str
    sha256: str
    size_bytes: int
    width: int
    height: int
    print_png: bytes | None  # logos only


def check_kind(kind: str) -> str:
    if kind not in LIMITS:
        raise InvalidArgument("say whether the image is the logo or the splash", field="kind")
    return kind


def check_size(kind: str, size: int) -> None:
    """Called as bytes arrive: refuse as soon as the upload passes the limit."""
    limit = LIMITS[kind].max_bytes
    if size > limit:
        raise ImageTooLarge(
            f"{_NAMES[kind]} is larger than the {limit // MIB} MB limit; "
            "export it smaller and upload that",
            field=FIELD,
        )


def sniff(data: bytes) -> str:
    """The image type the bytes themselves say, or a refusal that says what to do."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _looks_like_svg(data):
        raise InvalidArgument(
            "SVG images are not accepted, because they can carry scripts: "
            "export the image as PNG (or JPEG or WebP) and upload that",
            field=FIELD,
        )
    raise InvalidArgument("the file is not a PNG, JPEG or WebP image", field=FIELD)


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def inspect(kind: str, data: bytes) -> BrandImage:
    """The checked image: its sniffed type, hash and size (and a logo's print copy)."""
    kind = check_kind(kind)
    if not data:
        raise InvalidArgument("the file is empty", field=FIELD)
    check_size(kind, len(data))
    content_type = sniff(data)
    limits = LIMITS[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            width, height = image.size
            _check_dimensions(kind, limits, width, height)
            if _PILLOW_FORMATS.get(image.format or "") != content_type:
                raise InvalidArgument("the file's content does not match its type", field=FIELD)
            print_png = _print_copy(image) if kind == "logo" else None
            if print_png is None:
                image.verify()  # the whole stream parses, without decoding every pixel
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, for canvases far past ours: refused unopened.
        raise InvalidArgument(
            f"{_NAMES[kind]} has too many pixels; it may be at most "
            f"{limits.max_side} pixels on a side",
            field=FIELD,
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        # Our own refusals (InvalidArgument) pass through; these are the parser's.
        raise InvalidArgument(
            f"{_NAMES[kind]} cannot be read as an image; export it again and upload that",
            field=FIELD,
        ) from None
    return BrandImage(
        kind=kind,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=width,
        height=height,
        print_png=print_png,
    )


def _check_dimensions(kind: str, limits: Limits, width: int, height: int) -> None:
    if width < limits.min_width or height < limits.min_height:
        raise InvalidArgument(
            f"{_NAMES[kind]} is {width} x {height} pixels; it needs at least "
            f"{limits.min_width} x {limits.min_height}",
            field=FIELD,
        )
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise InvalidArgument(
            f"{_NAMES[kind]} is {width} x {height} pixels; it may be at most "
            f"{limits.max_side} pixels on a side",
            field=FIELD,
        )


def _print_copy(image: Image.Image) -> bytes:
    """The logo as a PNG within the letterhead's box, upright, transparency kept."""
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    copy = upright.convert("RGBA" if has_alpha else "RGB")
    copy.thumbnail(PRINT_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="PNG", optimize=True)
    return out.getvalue()


def upload_detail(kind: str, image: BrandImage) -> str:
    """The audit line for an uploaded brand image, in the admin's words."""
    what = "a logo" if kind == "logo" else "a sign-in image"
    return f"uploaded {what} ({image.content_type}, {image.width} x {image.height} px)"

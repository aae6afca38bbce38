"""Small real images for the brand upload tests, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def image_bytes(
    width: int = 480,
    height: int = 120,
    *,
    fmt: str = "PNG",
    color: tuple[int, int, int] = (180, 68, 43),
    alpha: bool = False,
) -> bytes:
    """A filled rectangle with a white bar, in `fmt` (PNG, JPEG, WEBP)."""
    mode = "RGBA" if alpha else "RGB"
    image = Image.new(mode, (width, height), (*color, 255) if alpha else color)
    ImageDraw.Draw(image).rectangle(
        (width // 8, height // 3, width // 2, 2 * height // 3), fill="white"
    )
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size

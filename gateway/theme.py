"""The tenant's look: its accent colour as CSS custom properties, with text
colours computed to stay readable (WCAG 2 contrast), and safe branding URLs.

`/theme.css` is per tenant (the Host decides) and its URL carries a version
derived from the branding, so a change shows on the next page load while the
file itself may be cached. Uploaded logos and splash images are served at
`/brand/<kind>-<hash>.<ext>` (the path names the content, so it is cached for
a year and never revalidated; `gateway/brand.py` fetches them).
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import grpc
from fastapi import APIRouter, Request
from portal.identity.v1 import identity_pb2
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from gateway.backends import RemoteError
from gateway.brand import ORIGINAL, fetch_image
from gateway.deps import BackendsDep, TenantDep
from gateway.problems import Problem, ProblemError, problem_type
from services.chassis import brand

DEFAULT_ACCENT = "#2f5d8a"
WHITE = (255, 255, 255)
INK = (17, 24, 39)  # the stylesheet's body text colour, --ink
AA_TEXT = 4.5  # WCAG 2 AA for body text
_HEX = re.compile(r"#([0-9a-fA-F]{6})")
RGB = tuple[int, int, int]

STATIC_DIR = Path(__file__).parent / "static"
THEME_CACHE = "public, max-age=300"
STATIC_CACHE = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"
# An image answer is never a document: nothing in it may run or load anything.
IMAGE_CSP = "default-src 'none'; sandbox"

router = APIRouter(include_in_schema=False)


def parse_hex(color: str | None) -> RGB | None:
    if not color or not _HEX.fullmatch(color.strip()):
        return None
    value = color.strip()[1:]
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def to_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def relative_luminance(rgb: RGB) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


BLACK = (0, 0, 0)


def readable_on(background: RGB) -> RGB:
    """White or the page's ink, whichever reads better on the background; for
    the few mid-greys where neither reaches 4.5:1, white or pure black (one of
    those two always does)."""
    best = max((WHITE, INK), key=lambda c: contrast_ratio(c, background))
    if contrast_ratio(best, background) >= AA_TEXT:
        return best
    return max((WHITE, BLACK), key=lambda c: contrast_ratio(c, background))


def mix(a: RGB, b: RGB, amount: float) -> RGB:
    """`amount` of b into a."""
    return tuple(round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def ink_version(accent: RGB, *, on: RGB = WHITE, ratio: float = AA_TEXT) -> RGB:
    """The accent itself if text in it reads on `on`; otherwise the accent
    darkened just enough (links and headings in the accent colour)."""
    color = accent
    for step in range(1, 21):
        if contrast_ratio(color, on) >= ratio:
            return color
        color = mix(accent, (0, 0, 0), step / 20)
    return color


def theme_css(branding: identity_pb2.Branding) -> str:
    return _css(branding.accent_color)


def theme_version(tenant: identity_pb2.Tenant) -> str:
    return _version(tenant.branding.accent_color)


# Every page asks for its tenant's version (the stylesheet's URL): a pure
# function of one colour, worked out once per colour instead of per request.
@functools.lru_cache(maxsize=1024)
def _css(accent_color: str) -> str:
    accent = parse_hex(accent_color) or parse_hex(DEFAULT_ACCENT)
    assert accent is not None
    ink = ink_version(accent)
    return (
        ":root {\n"
        f"  --accent: {to_hex(accent)};\n"
        f"  --on-accent: {to_hex(readable_on(accent))};\n"
        f"  --accent-ink: {to_hex(ink)};\n"
        f"  --accent-soft: {to_hex(mix(accent, WHITE, 0.9))};\n"
        f"  --accent-line: {to_hex(mix(accent, WHITE, 0.6))};\n"
        "}\n"
    )


@functools.lru_cache(maxsize=1024)
def _version(accent_color: str) -> str:
    return hashlib.sha256(_css(accent_color).encode()).hexdigest()[:12]


def safe_image_url(url: str | None) -> str | None:
    """Branding images: https, or a path on this host; nothing else (no http,
    no javascript:, no protocol-relative //host)."""
    if not url:
        return None
    url = url.strip()
    if url.startswith("https://") or (url.startswith("/") and not url.startswith("//")):
        if any(c in url for c in "\"'<> \\\n\r\t"):
            return None
        return url
    return None


@router.get("/theme.css", name="theme_css")
async def tenant_theme(tenant: TenantDep) -> Response:
    return Response(
        theme_css(tenant.branding),
        media_type="text/css",
        headers={"Cache-Control": THEME_CACHE},
    )


def _no_such_image() -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("not-found"),
            title="Not found",
            status=404,
            detail="There is no such image here. The portal's branding may have changed.",
            code="not_found",
        )
    )


@router.get("/brand/{name}", name="brand_image")
async def brand_image(
    name: str, request: Request, tenant: TenantDep, backends: BackendsDep
) -> Response:
    """An uploaded logo or splash image of this tenant, by its content's hash."""
    ref = brand.parse_asset_path(f"/brand/{name}")
    if ref is None:
        raise _no_such_image()
    try:
        image = await fetch_image(backends, tenant, ref, ORIGINAL)
    except RemoteError as exc:
        if exc.code == grpc.StatusCode.NOT_FOUND:
            raise _no_such_image() from None
        raise
    if brand.extension_of(image.content_type) != ref.extension:
        raise _no_such_image()  # the hash of a PNG asked for as .jpg names nothing
    etag = f'"{image.sha256}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Content-Security-Policy": IMAGE_CSP}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.content_type, headers=headers)


class CachedStatic(StaticFiles):
    """Our stylesheet; its URL carries the file's hash, so it may be cached."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = STATIC_CACHE
        return response


def static_version() -> str:
    digest = hashlib.sha256()
    for file in sorted(STATIC_DIR.glob("*")):
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]

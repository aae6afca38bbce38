"""Where an uploaded brand image lives on the tenant's host: one contract for
identity, which writes the path into the tenant's branding when an image is
uploaded, and the gateway, which serves it.

    /brand/logo-3f2a9c0d1e4b5a69.png     kind, the first 16 hex digits of the
    /brand/splash-0c1d2e3f4a5b6c7d.jpg   image's SHA-256, the type's extension

The path names the content, so it can be cached for good: a new image is a
new path. 64 bits of the hash are plenty among one tenant's few images.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("logo", "splash")
PREFIX_LENGTH = 16
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_PATH = re.compile(
    r"^/brand/(?P<kind>logo|splash)-(?P<prefix>[0-9a-f]{16})\.(?P<extension>png|jpg|webp)$"
)


@dataclass(frozen=True)
class AssetRef:
    kind: str
    sha256_prefix: str
    extension: str


def asset_path(kind: str, sha256: str, content_type: str) -> str:
    if kind not in KINDS or content_type not in EXTENSIONS:
        raise ValueError(f"no brand path for a {kind} of type {content_type}")
    return f"/brand/{kind}-{sha256[:PREFIX_LENGTH]}.{EXTENSIONS[content_type]}"


def parse_asset_path(url: str) -> AssetRef | None:
    """The image a branding URL names, if it is an uploaded one; else None
    (an https:// URL is never fetched by the suite)."""
    match = _PATH.match(url or "")
    if match is None:
        return None
    return AssetRef(match["kind"], match["prefix"], match["extension"])


def extension_of(content_type: str) -> str:
    return EXTENSIONS.get(content_type, "")

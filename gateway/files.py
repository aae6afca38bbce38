"""File downloads over HTTP, as pure functions: the Content-Disposition
header and the gateway's download link (the Range header: gateway/ranges.py).

A download link is the documents service's short-lived token wrapped in an
envelope the gateway signs (HMAC of the gateway's key) with what the response
needs before the first byte arrives: the file's name, type and size, and the
tenant it belongs to. A forged or altered link fails the MAC and is refused
without a call; the service still checks its own token (signature, expiry,
who may read) on every read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

DEFAULT_FILENAME = "download"
_MAX_LINK = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()+-]+")
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")


# -- Content-Disposition --------------------------------------------------------------------


def safe_filename(filename: str) -> str:
    """The name as uploaded, without a path or control characters."""
    name = _CONTROL.sub("", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name not in ("", ".", "..") else DEFAULT_FILENAME


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _UNSAFE_ASCII.sub("_", bare.encode("ascii", "replace").decode("ascii"))


def ascii_filename(filename: str) -> str:
    """A plain-ASCII stand-in for old clients: accents dropped, anything else
    (quotes, semicolons, backslashes, other scripts) replaced by "_"."""
    name = safe_filename(filename)
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    plain = _ascii(stem).strip(" ._")
    if not any(c.isalnum() for c in plain):
        plain = DEFAULT_FILENAME
    extension = _ascii(extension).strip(" ._")
    if extension and extension.isalnum():
        plain += "." + extension
    return plain


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """`attachment; filename="<ascii>"; filename*=UTF-8''<exact>` (RFC 6266, 8187)."""
    name = safe_filename(filename)
    return (
        f'{disposition}; filename="{ascii_filename(name)}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )


def safe_media_type(value: str) -> str:
    """The stored Content-Type if it is a plain type/subtype, else octet-stream."""
    media = (value or "").split(";", 1)[0].strip().lower()
    return media if _MEDIA_TYPE.match(media) else "application/octet-stream"


# -- the gateway's download link -------------------------------------------------------------


@dataclass(frozen=True)
class DownloadLink:
    token: str  # the documents service's own token
    tenant_id: str
    filename: str
    content_type: str
    size: int
    expires_at: int  # unix seconds; 0 if the service gave none


def _mac(secret: bytes, payload: bytes) -> str:
    key = hmac.new(secret, b"download-link", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()).decode()[:43]


def seal_link(secret: bytes, link: DownloadLink) -> str:
    body = {
        "t": link.token,
        "n": link.tenant_id,
        "f": link.filename,
        "c": link.content_type,
        "s": link.size,
        "e": link.expires_at,
    }
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=")
    return f"{payload.decode()}.{_mac(secret, payload)}"


def open_link(secret: bytes, value: str, *, tenant_id: str, now: float) -> DownloadLink | None:
    """The link if the gateway sealed it, for this tenant, and not expired; else None."""
    if not value or len(value) > _MAX_LINK or "." not in value:
        return None
    payload, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(mac.encode(), _mac(secret, payload.encode()).encode()):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        link = DownloadLink(
            token=str(body["t"]),
            tenant_id=str(body["n"]),
            filename=str(body["f"]),
            content_type=str(body["c"]),
            size=int(body["s"]),
            expires_at=int(body["e"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if link.tenant_id != tenant_id or link.size < 0:
        return None
    if link.expires_at and now > link.expires_at:
        return None
    return link


def human_size(size: int) -> str:
    """1536 -> "1.5 KB"; for lists of files."""
    if size < 1024:
        return f"{size} bytes" if size != 1 else "1 byte"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"  # pragma: no cover


def limit_size(size: int) -> str:
    """A limit as people say it: 25 MiB -> "25 MB", 1 MiB -> "1 MB" (not "1.0 MB")."""
    return human_size(size).replace(".0 ", " ")


_KINDS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/heic": "HEIC image",
    "text/plain": "Text",
    "text/csv": "CSV",
    "application/zip": "ZIP archive",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.ms-excel": "Excel",
}


def file_kind(content_type: str, filename: str) -> str:
    """ "PDF", "PNG image", else the extension in capitals, else "File"."""
    kind = _KINDS.get(safe_media_type(content_type))
    if kind:
        return kind
    _, dot, extension = safe_filename(filename).rpartition(".")
    if dot and extension and len(extension) <= 5 and extension.isalnum():
        return extension.upper()
    return "File"

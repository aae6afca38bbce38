"""Pure rules of the document library: file names, type sniffing against the
allow-list, default folders, and signed download-link tokens. No I/O; the
clock and secrets are passed in."""

from __future__ import annotations

import base64
import codecs
import hashlib
import hmac
import json
import unicodedata
from dataclasses import dataclass

from services.chassis.errors import (
    DomainError,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    Unauthenticated,
    unavailable,
)
from services.chassis.validation import require_text

DEFAULT_FOLDERS = ("Proposals", "Schematics", "Handover", "Manuals")
MAX_FILENAME_CHARS = 200
SNIFF_BYTES = 8192
MIB = 1024 * 1024

# Sniffed kind -> the extensions a file of that kind may carry.
EXTENSIONS: dict[str, frozenset[str]] = {
    "pdf": frozenset({"pdf"}),
    "png": frozenset({"png"}),
    "jpeg": frozenset({"jpg", "jpeg"}),
    "gif": frozenset({"gif"}),
    "webp": frozenset({"webp"}),
    "zip": frozenset({"zip"}),
    "ooxml": frozenset({"docx", "xlsx", "pptx"}),
    "ole": frozenset({"doc", "xls", "ppt"}),
    "dwg": frozenset({"dwg"}),
    "text": frozenset({"txt", "csv", "md"}),
}
CONTENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "dwg": "image/vnd.dwg",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
ALLOWED_EXTENSIONS = frozenset(CONTENT_TYPES)
EXECUTABLE_EXTENSIONS = frozenset(
    {
        "exe",
        "com",
        "bat",
        "cmd",
        "scr",
        "pif",
        "msi",
        "msp",
        "dll",
        "cpl",
        "jar",
        "js",
        "jse",
        "vbs",
        "vbe",
        "wsf",
        "wsh",
        "ps1",
        "psm1",
        "sh",
        "bash",
        "app",
        "apk",
        "dmg",
        "hta",
        "lnk",
        "reg",
        "py",
        "pl",
        "php",
        "html",
        "htm",
        "svg",
        "xhtml",
        "iso",
    }
)


class ProjectUnknown(DomainError):
    """Documents has not (yet) heard of the project from projects' events."""

    code = "failed_precondition"

    def __init__(self) -> None:
        super().__init__("the project is not known to documents yet", field="project_id")


class FileTooLarge(InvalidArgument):
    """Over the size limit: a stable code, so the gateway can answer 413."""

    code = "file_too_large"


def size_limit_message(limit_bytes: int) -> str:
    return f"the file is larger than the {human_size(limit_bytes)} limit"


def human_size(size: int) -> str:
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MB"
    if size >= MIB:
        return f"{size / MIB:.1f} MB"
    return f"{max(size // 1024, 1)} KB"


MIN_UPLOAD_LIMIT = 64 * 1024


def check_upload_limit(requested: int, ceiling: int) -> int:
    """A tenant's own limit: at least 64 KB, at most the operator's ceiling."""
    if requested < MIN_UPLOAD_LIMIT or requested > ceiling:
        raise InvalidArgument(
            f"the upload limit must be between {human_size(MIN_UPLOAD_LIMIT)} and "
            f"{human_size(ceiling)}",
            field="max_upload_bytes",
        )
    return requested


def check_declared_size(declared: int, limit_bytes: int) -> None:
    if declared < 0:
        raise InvalidArgument("declared size cannot be negative", field="declared_size")
    if declared > limit_bytes:
        raise FileTooLarge(size_limit_message(limit_bytes), field="declared_size")


DESCRIPTION_MAX = 5000
REQUEST_ID_MAX = 100


@dataclass(frozen=True)
class UploadNames:
    """An upload's cleaned names, checked before any byte is read."""

    request_id: str
    filename: str
    title: str  # the file name when none is given
    description: str


def check_upload(*, request_id: str, filename: str, title: str, description: str) -> UploadNames:
    request_id = require_text(request_id, field="request_id", max_len=REQUEST_ID_MAX)
    name = sanitize_filename(filename)
    extension_of(name)  # refused by name before the bytes are even read
    return UploadNames(
        request_id=request_id,
        filename=name,
        title=require_text(title or name, field="title"),
        description=description.strip()[:DESCRIPTION_MAX],
    )


# What a client may upload: photos for a visit they book (bookings carries
# their ids); the bytes are sniffed and must agree, as for staff.
PHOTO_EXTENSIONS = EXTENSIONS["png"] | EXTENSIONS["jpeg"] | EXTENSIONS["gif"] | EXTENSIONS["webp"]


def check_client_upload(filename: str, *, new_version: bool, folder_id: str) -> None:
    """A client adds photos, as new documents outside any folder; nothing else."""
    if new_version:
        raise PermissionDenied("only the integrator's staff can upload a new version")
    if folder_id:
        raise InvalidArgument("a photo goes in no folder", field="folder_id")
    if extension_of(sanitize_filename(filename)) not in PHOTO_EXTENSIONS:
        raise InvalidArgument(
            "only photos can be attached: PNG, JPEG, GIF or WebP", field="filename"
        )


def check_received_size(received: int, declared: int) -> None:
    """A declared size (0: none declared) must be what arrived."""
    if declared and received != declared:
        raise InvalidArgument(
            f"the upload sent {received} bytes but declared {declared}", field="declared_size"
        )


def next_version_number(latest: int | None) -> int:
    return (latest or 0) + 1


def sanitize_filename(raw: str) -> str:
    """Basename only, no control characters or separators, NFC, bounded."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if not name:
        raise InvalidArgument("the file needs a name", field="filename")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name


def extension_of(filename: str) -> str:
    """The allowed, lower-case extension of a sanitised name; refuses executables
    and double extensions that hide a type (invoice.pdf.exe, photo.jpg.pdf)."""
    parts = filename.lower().split(".")
    if len(parts) < 2 or not parts[-1]:
        raise InvalidArgument("the file name needs an extension, e.g. .pdf", field="filename")
    ext = parts[-1]
    if ext in EXECUTABLE_EXTENSIONS or any(p in EXECUTABLE_EXTENSIONS for p in parts[1:-1]):
        raise InvalidArgument("executable files cannot be uploaded", field="filename")
    if any(p in ALLOWED_EXTENSIONS for p in parts[1:-1]):
        raise InvalidArgument(
            "the file name has a double extension; rename it to one extension", field="filename"
        )
    if ext not in ALLOWED_EXTENSIONS:
        raise InvalidArgument(f"files of type .{ext} are not accepted", field="filename")
    return ext


def sniff(head: bytes) -> str | None:
    """The kind of file the first bytes say it is, or None if not on the allow-list."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return "ooxml" if b"[Content_Types].xml" in head else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head[:4] == b"AC10" and head[4:6].isdigit():
        return "dwg"
    if b"\x00" not in head:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return None
        return "text"
    return None


def check_content(filename: str, head: bytes) -> str:
    """The content type to store, if the bytes are allowed and agree with the name."""
    ext = extension_of(filename)
    if not head:
        raise InvalidArgument("the file is empty", field="data")
    kind = sniff(head)
    if kind is None:
        raise InvalidArgument("this kind of file is not accepted", field="data")
    if ext not in EXTENSIONS[kind]:
        raise InvalidArgument(
            f"the file's contents do not match its .{ext} extension", field="filename"
        )
    return CONTENT_TYPES[ext]


def byte_window(offset: int, length: int, has_range: bool, size: int) -> tuple[int, int]:
    """[start, stop) of the plaintext to send: the whole file, or exactly
    `length` bytes from `offset` (ReadBlobRequest's contract). Nothing is
    clamped: the gateway has already resolved the client's Range against the
    size, so a window that does not fit is a caller's mistake, refused."""
    if not has_range:
        return 0, size
    if offset < 0 or length < 1 or offset + length > size:
        raise OutOfRange(
            f"the file has {size} bytes; {length} from byte {offset} do not fit", field="offset"
        )
    return offset, offset + length


# --- download links ----------------------------------------------------------------


@dataclass(frozen=True)
class LinkClaims:
    document_id: str
    version_id: str
    tenant_id: str
    subject: str
    kind: str
    customer_id: str
    expires_at: int  # unix seconds
    # Staff viewing the portal as the client: held to the customer, not to a
    # project's list of contacts (chassis.audience), as when the link was made.
    viewing_as: bool = False


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_link(claims: LinkClaims, secret: bytes) -> str:
    body = json.dumps(
        {
            "d": claims.document_id,
            "v": claims.version_id,
            "t": claims.tenant_id,
            "s": claims.subject,
            "k": claims.kind,
            "c": claims.customer_id,
            "e": claims.expires_at,
            "a": claims.viewing_as,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    mac = hmac.new(secret, b"portal-document-link|" + body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify_link(token: str, secret: bytes, *, now: int) -> LinkClaims:
    try:
        body_text, mac_text = token.split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        raise Unauthenticated("the download link is not valid") from None
    expected = hmac.new(secret, b"portal-document-link|" + body, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise Unauthenticated("the download link is not valid")
    data = json.loads(body)
    claims = LinkClaims(
        document_id=data["d"],
        version_id=data["v"],
        tenant_id=data["t"],
        subject=data["s"],
        kind=data["k"],
        customer_id=data["c"],
        expires_at=int(data["e"]),
        viewing_as=bool(data.get("a", False)),
    )
    if now >= claims.expires_at:
        raise Unauthenticated("the download link has expired")
    return claims


# How a person names what they asked for (the field names the id).
_NAMES = {"version": "version of the document"}


def not_found(what: str = "document") -> NotFound:
    return NotFound(unavailable(_NAMES.get(what, what)), field=f"{what}_id")

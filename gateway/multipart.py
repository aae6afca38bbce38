"""Reading a multipart/form-data upload as it arrives: its text fields, then
one file whose bytes are handed on as they come. Nothing is spooled, to
memory or to disk, so a caller can be refused, or a file stopped at its
limit, having read only what came before.

The text fields come first, the file last: browsers send a form's fields in
document order, curl -F and httpx in the order given. A field or second file
after the file is refused (the upload's header has gone by then)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import FormData, Headers

from gateway.problems import (
    FieldError,
    Problem,
    ProblemError,
    problem_type,
    unsupported_media_type,
)

MAX_FIELDS = 20
MAX_FIELD_BYTES = 16 * 1024  # a field is a title or a description, not a file
_FIELD, _FILE, _DATA, _FILE_END, _END = "field", "file", "data", "file_end", "end"


@dataclass(frozen=True)
class FilePart:
    field: str
    filename: str
    content_type: str


def malformed(detail: str, *, field: str | None = None, status: int = 422) -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("invalid-request"),
            title="Invalid request",
            status=status,
            detail=detail,
            code="invalid_request",
            errors=[FieldError(field=field, location="body", message=detail)] if field else None,
        )
    )


def not_multipart() -> ProblemError:
    return unsupported_media_type(
        "Send the upload as 'multipart/form-data', the file in a part named 'file'."
    )


class MultipartReader:
    """`fields()` reads up to the first file; `file_chunks()` then hands on its
    bytes and reads the rest of the form. The body is pulled only as these are."""

    def __init__(self, headers: Headers, stream: AsyncIterator[bytes]) -> None:
        media, options = parse_options_header(headers.get("content-type", ""))
        boundary = options.get(b"boundary")
        if media != b"multipart/form-data" or not boundary:
            raise not_multipart()
        self._stream = stream
        self._events: deque[tuple[str, object]] = deque()
        self._headers: list[tuple[bytes, bytes]] = []
        self._name, self._value = b"", b""
        self._part: FilePart | None = None  # the file part being read, else a field
        self._field_name = ""
        self._field = bytearray()
        self._fields = 0
        self._done = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": lambda d, s, e: self._add(name=d[s:e]),
                "on_header_value": lambda d, s, e: self._add(value=d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
                "on_end": lambda: self._events.append((_END, None)),
            },
        )

    # -- the parser's callbacks (synchronous: they only queue events) --------------------

    def _begin(self) -> None:
        self._headers, self._part, self._field = [], None, bytearray()

    def _add(self, *, name: bytes = b"", value: bytes = b"") -> None:
        self._name += name
        self._value += value

    def _header_end(self) -> None:
        self._headers.append((self._name.lower(), self._value))
        self._name, self._value = b"", b""

    def _headers_finished(self) -> None:
        headers = dict(self._headers)
        _, options = parse_options_header(headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            filename = options[b"filename"].decode("utf-8", "replace")
            self._part = FilePart(name, filename, content_type)
            self._events.append((_FILE, self._part))
            return
        self._fields += 1
        if self._fields > MAX_FIELDS:
            raise malformed(f"The form has too many fields; send at most {MAX_FIELDS}.")
        self._field_name = name

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._part is not None:
            self._events.append((_DATA, data[start:end]))
            return
        if len(self._field) + end - start > MAX_FIELD_BYTES:
            raise malformed(f"The field '{self._field_name}' is too long.", field=self._field_name)
        self._field += data[start:end]

    def _part_end(self) -> None:
        if self._part is not None:
            self._events.append((_FILE_END, None))
        else:
            value = self._field.decode("utf-8", "replace")
            self._events.append((_FIELD, (self._field_name, value)))

    # -- pulling --------------------------------------------------------------------------

    async def _next(self) -> tuple[str, object]:
        while not self._events:
            if self._done:
                raise malformed("The form ended before its closing boundary.")
            chunk = await anext(self._stream, b"")
            try:
                if chunk:
                    self._parser.write(chunk)
                else:
                    self._done = True
                    self._parser.finalize()
            except FormParserError:
                raise malformed("The body is not valid multipart/form-data.") from None
        return self._events.popleft()

    async def fields(self) -> tuple[FormData, FilePart | None]:
        """The text fields before the first file, and that file (None: the form
        has none). A file input left empty (no name, no bytes) is skipped."""
        items: list[tuple[str, str]] = []
        while True:
            kind, value = await self._next()
            if kind == _FIELD:
                assert isinstance(value, tuple)
                items.append(value)
            elif kind == _FILE:
                assert isinstance(value, FilePart)
                if value.filename:
                    return FormData(items), value
                await self._skip_file()
            elif kind == _END:
                return FormData(items), None

    async def _skip_file(self) -> None:
        while (await self._next())[0] != _FILE_END:
            continue

    async def file_chunks(self, size: int) -> AsyncIterator[bytes]:
        """The file's bytes in pieces of `size` (the last may be shorter); once
        it ends, the rest of the form is read: only the closing boundary may follow."""
        piece = bytearray()
        while True:
            kind, value = await self._next()
            if kind != _DATA:
                break
            assert isinstance(value, bytes)
            piece += value
            while len(piece) >= size:
                yield bytes(piece[:size])
                del piece[:size]
        if piece:
            yield bytes(piece)
        while kind != _END:
            kind, value = await self._next()
            if kind in (_FIELD, _FILE):
                raise malformed(
                    "Send one file, after the form's other fields: nothing may follow it.",
                    field=value[0] if isinstance(value, tuple) else "file",
                )

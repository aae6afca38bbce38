"""The Range header of a download (RFC 9110 section 14), read in one place.

What each header gets, for a file of `size` bytes (size >= 1):

- no Range, a unit other than `bytes`, or an `If-Range` (we send no validator
  a client could hold, so its condition cannot match, and RFC 9110 13.1.5
  says to ignore the Range then): the whole file, 200;
- one range: 206 with exactly its bytes. `bytes=a-b` (b past the end is the
  end), `bytes=a-` (from a to the end), `bytes=-n` (the last n; more than the
  file is the whole file). `bytes=0-0` is one byte;
- one range starting at or past the end, or `bytes=-0`: 416 with
  `Content-Range: bytes */size`;
- several ranges: the whole file, 200 (we never send multipart/byteranges);
- anything that is not the grammar (`bytes=10-5`, letters, signs, spaces
  inside a range, `bytes=-`): ignored, the whole file, 200. RFC 9110 14.2
  lets a server ignore an invalid Range or refuse it; ignoring is the answer
  every client can use.

Numbers are read by value whatever their length: the grammar is `1*DIGIT`,
so `bytes=99999999999999999999999999999-` is a valid range that starts past
the end (416), and a last position of five thousand digits is simply the end
of the file. Python's int() refuses strings over 4300 digits, so a number
with more digits than any size could have is taken as "beyond any file"
without converting it. Digits are ASCII only (`\\d` would take other
scripts' digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sizes are int64 on the wire: nothing is this large.
BEYOND_ANY_FILE = 2**63
_MAX_DIGITS = len(str(BEYOND_ANY_FILE))
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")


class RangeNotSatisfiable(Exception):
    """The one range asked for starts past the end: answered 416."""


@dataclass(frozen=True)
class ByteRange:
    """`length` bytes from `offset`, as the documents service is asked for them."""

    offset: int
    length: int

    @property
    def last(self) -> int:
        return self.offset + self.length - 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.offset}-{self.last}/{size}"


def unsatisfied_content_range(size: int) -> str:
    return f"bytes */{size}"


def _value(digits: str) -> int:
    significant = digits.lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return BEYOND_ANY_FILE
    return min(int(significant or "0"), BEYOND_ANY_FILE)


def _less(a: str, b: str) -> bool:
    """a < b for digit strings of any length, compared by value without
    converting them (both may be far past what _value keeps apart)."""
    a, b = a.lstrip("0") or "0", b.lstrip("0") or "0"
    return (len(a), a) < (len(b), b)


def parse_range(header: str | None, size: int, *, if_range: str | None = None) -> ByteRange | None:
    """The one byte range to send, or None for the whole file; raises
    RangeNotSatisfiable for a 416. Never raises anything else, whatever the
    header holds (the module's docstring is the contract)."""
    if header is None or if_range is not None or size <= 0:
        return None
    unit, sep, range_set = header.strip().partition("=")
    if not sep or unit.lower() != "bytes":
        return None
    # A list may hold empty elements and space around them (RFC 9110 5.6.1).
    specs = [spec.strip(" \t") for spec in range_set.split(",")]
    specs = [spec for spec in specs if spec]
    if len(specs) != 1:
        return None
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = _value(last)
        if suffix == 0:
            raise RangeNotSatisfiable
        length = min(suffix, size)
        return ByteRange(size - length, length)
    if last and _less(last, first):  # "10-5": not a range; by value, at any length
        return None
    start = _value(first)
    end = _value(last) if last else BEYOND_ANY_FILE
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, min(end, size - 1) - start + 1)

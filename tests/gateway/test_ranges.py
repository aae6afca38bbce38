"""The Range header as a pure function (gateway/ranges.py): what each header
gets, and, for any header at all, an answer and never an exception."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.ranges import BEYOND_ANY_FILE, ByteRange, RangeNotSatisfiable, parse_range

SIZE = 100
FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 1)),  # one byte, not the file
        ("bytes=0-9", ByteRange(0, 10)),
        ("bytes=10-", ByteRange(10, 90)),
        ("bytes=-10", ByteRange(90, 10)),
        ("bytes=-1000", ByteRange(0, 100)),  # more than there is: the whole file, 206
        ("bytes=95-200", ByteRange(95, 5)),  # past the end: to the end
        ("bytes=99-99", ByteRange(99, 1)),  # the last byte
        ("bytes=99-", ByteRange(99, 1)),
        ("BYTES=5-6", ByteRange(5, 2)),  # the unit is case-insensitive
        ("bytes=5-6,", ByteRange(5, 2)),  # empty list elements are allowed
        ("bytes= 5-6 ", ByteRange(5, 2)),
        ("bytes=0007-0008", ByteRange(7, 2)),
        (f"bytes=0-{FIVE_THOUSAND_DIGITS}", ByteRange(0, 100)),
        (f"bytes=-{FIVE_THOUSAND_DIGITS}", ByteRange(0, 100)),
        ("bytes=" + "0" * 5000 + "3-4", ByteRange(3, 2)),
    ],
)
def test_one_range_is_exactly_its_bytes(header: str, expected: ByteRange) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=,",
        "bytes=10-5",  # last before first: invalid, ignored
        "bytes=a-b",
        "bytes=1.5-3",
        "bytes=+1-3",
        "bytes=5 - 6",  # no space inside a range
        "bytes=\u0663-\u0664",  # Arabic-Indic digits are not DIGIT
        "bytes=0-1,5-6",  # several ranges: the whole file instead
        "bytes=0-0,-1",
        "items=0-1",
        "0-1",
        "bytes=0-1-2",
    ],
)
def test_what_is_not_one_valid_range_gets_the_whole_file(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    "header",
    [
        "bytes=100-",
        "bytes=100-200",
        "bytes=-0",
        "bytes=99999999999999999999999999999-",
        f"bytes={FIVE_THOUSAND_DIGITS}-",
        f"bytes={FIVE_THOUSAND_DIGITS}-{FIVE_THOUSAND_DIGITS}",
    ],
)
def test_a_range_starting_past_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, SIZE)


def test_an_if_range_cannot_match_so_the_whole_file_is_sent() -> None:
    # We send no ETag or Last-Modified, so no validator a client holds is ours.
    assert parse_range("bytes=0-0", SIZE, if_range='"abc"') is None
    assert parse_range("bytes=100-", SIZE, if_range="Wed, 21 Oct 2015 07:28:00 GMT") is None


def test_an_empty_file_is_sent_whole() -> None:
    assert parse_range("bytes=0-0", 0) is None and parse_range("bytes=-5", 0) is None


def test_a_range_knows_its_last_byte_and_content_range() -> None:
    r = ByteRange(10, 10)
    assert (r.last, r.content_range(100)) == (19, "bytes 10-19/100")
    assert ByteRange(0, 1).content_range(100) == "bytes 0-0/100"


sizes = st.integers(min_value=0, max_value=BEYOND_ANY_FILE - 1)
grammar_ish = st.text(alphabet="bytesBYTES=-,0123456789 \t", max_size=60)


@given(
    header=st.one_of(st.none(), st.text(), grammar_ish),
    size=sizes,
    if_range=st.one_of(st.none(), st.text(max_size=5)),
)
@example(header="bytes=" + "9" * 5000 + "-", size=SIZE, if_range=None)
@example(header="bytes=-" + "9" * 5000, size=SIZE, if_range=None)
@example(header="bytes=0-0", size=1, if_range=None)
def test_any_header_gets_an_answer_and_a_range_fits_the_file(
    header: str | None, size: int, if_range: str | None
) -> None:
    try:
        got = parse_range(header, size, if_range=if_range)
    except RangeNotSatisfiable:
        assert size > 0 and header is not None
        return
    if got is not None:
        assert got.offset >= 0 and got.length >= 1 and got.offset + got.length <= size


positions = st.integers(min_value=0, max_value=10**30)


@given(first=positions, last=st.one_of(st.none(), positions), size=st.integers(1, 10**6))
@example(first=2**64 + 5, last=2**64 + 1, size=100)  # both past int64, last < first
def test_an_int_range_is_the_slice_python_would_take(first: int, last: int | None, size: int):
    header = f"bytes={first}-{'' if last is None else last}"
    stop = size if last is None else last + 1
    if last is not None and last < first:
        assert parse_range(header, size) is None
    elif first >= size:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, size)
    else:
        got = parse_range(header, size)
        assert got is not None
        expected = range(size)[first:stop]
        assert (got.offset, got.offset + got.length) == (expected.start, expected.stop)


@given(suffix=positions, size=st.integers(1, 10**6))
def test_a_suffix_range_is_the_last_n_bytes(suffix: int, size: int) -> None:
    if suffix == 0:
        with pytest.raises(RangeNotSatisfiable):
            parse_range("bytes=-0", size)
        return
    got = parse_range(f"bytes=-{suffix}", size)
    expected = range(size)[-suffix:]
    assert got is not None and (got.offset, got.offset + got.length) == (
        expected.start,
        expected.stop,
    )

"""The chassis's input checks, shared by every service and the gateway: text
on one line, text on several, bounded integers, idempotency keys, and the
walk that finds a NUL in any field of a request."""

from __future__ import annotations

import pytest
from portal.identity.v1 import identity_pb2 as ipb

from services.chassis.errors import InvalidArgument
from services.chassis.grpc_server import nul_field
from services.chassis.idempotency import IdempotencyKeyReused, fingerprint, refuse_reuse
from services.chassis.validation import (
    bounded_int,
    check_request_id,
    multiline_text,
    require_text,
    single_line,
)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("Cinema\x00", "a NUL character (U+0000)"),
        ("Cinema\r\nBcc: x@evil.example", "a line break"),
        ("Cinema\nroom", "a line break"),
        ("Cinema\u2028room", "a line break"),
        ("Cinema\troom", "a tab"),
        ("Cinema\x1b[31m", "the control character U+001B"),
        ("Cine\x85ma", "the control character U+0085"),
        ("Cinema\x7f", "the control character U+007F"),
    ],
)
def test_one_line_refuses_control_characters_and_line_breaks(value: str, named: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        require_text(value, field="name")
    assert refused.value.field == "name"
    assert refused.value.message == f"name cannot contain {named}; remove it and try again"


def test_one_line_keeps_what_people_type() -> None:
    # An en dash, CJK, an emoji and a ZWJ sequence (format characters, not control).
    typed = "  \u00dcnal's caf\u00e9 \u2013 \u6771\u4eac \U0001f3ac \U0001f469\u200d\U0001f4bb "
    assert require_text(typed, field="name") == typed.strip()
    assert single_line("", field="site_address") == ""
    with pytest.raises(InvalidArgument, match="site address is longer than 5"):
        single_line("123456", field="site_address", max_len=5)
    with pytest.raises(InvalidArgument, match="name is required"):
        require_text(" \u00a0 ", field="name")


def test_several_lines_keep_newlines_and_tabs_and_read_cr_lf_as_one() -> None:
    note = multiline_text(" Line one\r\nLine two\rLine\tthree\u2029 ", field="note", max_len=100)
    assert note == "Line one\nLine two\nLine\tthree"
    for bad in ("a\x00b", "a\x0bb", "a\x1bb", "a\ud800b"):
        with pytest.raises(InvalidArgument) as refused:
            multiline_text(bad, field="client_note", max_len=100)
        assert refused.value.field == "client_note"


def test_bounded_integers_name_the_range() -> None:
    assert bounded_int(5, field="quantity", low=1, high=10) == 5
    with pytest.raises(InvalidArgument, match="quantity must be between 1 and 10") as refused:
        bounded_int(2**63, field="quantity", low=1, high=10)
    assert refused.value.field == "quantity"


def test_a_request_id_fits_its_column_and_one_line() -> None:
    assert check_request_id(" abc ") == "abc"
    assert check_request_id("") == ""
    for bad in ("x" * 101, "a\nb"):
        with pytest.raises(InvalidArgument) as refused:
            check_request_id(bad)
        assert refused.value.field == "request_id"


def test_a_key_is_refused_for_a_different_request_and_passes_for_the_same() -> None:
    first = fingerprint("CreateRoom", project_id="p1", name="Cinema")
    assert first == fingerprint("CreateRoom", name="Cinema", project_id="p1")  # order-free
    refuse_reuse(stored=first, given=first)
    refuse_reuse(stored=None, given=first)  # a row kept from before fingerprints
    for other in (
        fingerprint("CreateRoom", project_id="p2", name="Cinema"),
        fingerprint("CreateRoom", project_id="p1", name="Kitchen"),
    ):
        with pytest.raises(IdempotencyKeyReused) as refused:
            refuse_reuse(stored=first, given=other)
        assert (refused.value.code, refused.value.field) == ("idempotency_key_reused", "request_id")


def test_the_nul_walk_names_the_field_however_deep() -> None:
    clean = ipb.CreateCustomerRequest(name="Okafor", contacts=[ipb.NewContact(email="a@b.c")])
    assert nul_field(clean) is None
    deep = ipb.CreateCustomerRequest(
        name="Okafor", contacts=[ipb.NewContact(email="a@b.c"), ipb.NewContact(full_name="J\x00")]
    )
    assert nul_field(deep) == "contacts[1].full_name"
    assert nul_field(ipb.SignInRequest(email="jane\x00@x.example")) == "email"

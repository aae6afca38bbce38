"""Pure upload rules: the names checked before any byte is read, the declared
size against what arrived, version numbering."""

from __future__ import annotations

import pytest

from services.chassis.errors import InvalidArgument
from services.documents import domain


def names(**kw) -> domain.UploadNames:
    values = {
        "request_id": " req-1 ",
        "filename": "../plans/Rack plan.pdf",
        "title": "",
        "description": "  wiring  ",
    }
    values.update(kw)
    return domain.check_upload(**values)


def test_an_upload_is_named_after_its_file_when_no_title_is_given():
    assert names() == domain.UploadNames(
        request_id="req-1",
        filename="Rack plan.pdf",
        title="Rack plan.pdf",
        description="wiring",
    )
    assert names(title=" Rack plan, rev B ").title == "Rack plan, rev B"


def test_an_upload_needs_a_request_id_first():
    # Named first even when the file name is bad too: the client's bug is the id.
    with pytest.raises(InvalidArgument) as err:
        names(request_id=" ", filename="tool.exe")
    assert err.value.field == "request_id"


def test_an_executable_is_refused_by_name_before_any_bytes():
    with pytest.raises(InvalidArgument) as err:
        names(filename="invoice.pdf.exe")
    assert err.value.field == "filename"


def test_a_long_description_is_cut_to_the_limit():
    assert len(names(description="x" * 6000).description) == domain.DESCRIPTION_MAX


def test_the_declared_size_must_be_what_arrived():
    domain.check_received_size(10, 10)
    domain.check_received_size(10, 0)  # nothing declared: nothing to compare
    with pytest.raises(InvalidArgument) as err:
        domain.check_received_size(9, 10)
    assert err.value.field == "declared_size"
    assert "sent 9 bytes but declared 10" in str(err.value)


def test_versions_are_numbered_from_one():
    assert domain.next_version_number(None) == 1
    assert domain.next_version_number(3) == 4

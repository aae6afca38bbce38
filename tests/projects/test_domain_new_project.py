"""A CreateProject request cleaned in pure code: each field checked, the
default currency filled in, and one digest per meaning of the request."""

from __future__ import annotations

import uuid

import pytest

from services.chassis.errors import InvalidArgument
from services.projects.domain import NAME_MAX, new_project

CUSTOMER = str(uuid.uuid4())


def _new(**kw: str):
    args = {"name": "Home cinema", "customer_id": CUSTOMER, "site_address": "2 Rd", "currency": ""}
    return new_project(**(args | kw))


def test_the_fields_are_cleaned_and_the_same_request_has_the_same_digest():
    made = _new(name="  Home cinema ", currency="")
    assert (made.name, made.customer_id, made.site_address) == (
        "Home cinema",
        uuid.UUID(CUSTOMER),
        "2 Rd",
    )
    assert made.currency  # the suite's default
    assert made.digest == _new().digest
    assert made.digest != _new(site_address="3 Rd").digest


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * (NAME_MAX + 1)),
        ("customer_id", "not-a-uuid"),
        ("site_address", "two\nlines"),
    ],
)
def test_a_bad_field_is_refused_by_its_name(field: str, value: str):
    with pytest.raises(InvalidArgument) as refused:
        _new(**{field: value})
    assert refused.value.field == field

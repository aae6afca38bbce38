"""Tenant and customer changes, each value checked on its own (pure)."""

import pytest

from services.chassis.errors import InvalidArgument
from services.identity import domain_updates as du


def test_each_change_is_checked_and_normalised_on_its_own():
    got = du.check_tenant_changes(
        {"region": "gb", "accent_color": "#ABCDEF", "support_email": "Help@Acme.Example"}
    )
    assert got == {"region": "GB", "accent_color": "#abcdef", "support_email": "Help@acme.example"}


def test_clearing_keeps_a_usable_default_or_empties_the_field():
    got = du.check_tenant_changes({"accent_color": "", "logo_url": "", "support_email": " "})
    assert got == {"accent_color": du.DEFAULT_ACCENT_COLOR, "logo_url": "", "support_email": ""}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_name": "  "}, "display_name"),
        ({"time_zone": ""}, "time_zone"),
        ({"currency": "pounds"}, "currency"),
        ({"splash_image_url": "//evil.example/x.png"}, "splash_image_url"),
        # Every email about the integrator carries these: a line break in one
        # would end the header it is written into.
        ({"display_name": "Acme\r\nBcc: x@evil.example"}, "display_name"),
        ({"headline": "Built\nright"}, "headline"),
        ({"support_email": "help\x01@acme.example"}, "support_email"),
        ({"postal_address": "1 Road\x1b[2J"}, "postal_address"),
    ],
)
def test_a_bad_value_names_its_field(changes, field):
    with pytest.raises(InvalidArgument) as refused:
        du.check_tenant_changes(changes)
    assert refused.value.field == field


def test_a_whole_branding_block_clears_what_it_leaves_out():
    got = du.check_branding({"headline": " Hi "})
    assert got["headline"] == "Hi" and got["logo_url"] == ""
    assert set(got) == set(du.BRANDING_FIELDS)


def test_only_the_fields_that_differ_are_changed():
    current = {"headline": "Hi", "logo_url": "/a.png"}
    assert du.changed_fields(current, {"logo_url": "/b.png", "headline": "Hi"}) == ["logo_url"]


def test_a_customer_rename_is_checked_and_nothing_named_changes_nothing():
    assert du.check_customer_changes({"name": " Harrison "}) == {"name": "Harrison"}
    assert du.check_customer_changes({}) == {}
    with pytest.raises(InvalidArgument):
        du.check_customer_changes({"name": ""})


def test_a_postal_address_keeps_its_lines_however_they_were_typed():
    got = du.check_tenant_changes({"postal_address": "1 Road\r\nTown\u2028\nCounty"})
    assert got == {"postal_address": "1 Road\nTown\nCounty"}


def test_a_customer_name_is_one_line():
    with pytest.raises(InvalidArgument) as err:
        du.check_customer_changes({"name": "The Harrisons\r\nBcc: x@evil.example"})
    assert err.value.field == "name" and "line break" in err.value.message

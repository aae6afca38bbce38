"""Rooms, product lines and a project's details."""

import pytest

from services.chassis.errors import InvalidArgument
from services.projects.domain import (
    CustomerRecord,
    change_project_details,
    check_customer,
    check_project_details,
    check_visible_contacts,
)
from services.projects.domain_rooms import change_line, check_line, check_room_name, move_to


def line(**kw):
    values = {
        "manufacturer": " Sonos ",
        "model": "Arc",
        "description": "",
        "quantity": 1,
        "unit_price_minor": 89_900,
        "client_visible": True,
    }
    values.update(kw)
    return check_line(**values)


def test_a_line_is_trimmed_and_needs_a_model_or_description():
    assert line().manufacturer == "Sonos"
    assert line(model="", description="Rack build").description == "Rack build"
    with pytest.raises(InvalidArgument, match="model or a description"):
        line(model=" ", description="")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 10_001}, "quantity"),
        ({"unit_price_minor": -1}, "unit_price_minor"),
        ({"unit_price_minor": 10**10 + 1}, "unit_price_minor"),
        ({"manufacturer": "x" * 201}, "manufacturer"),
        ({"description": "x" * 2001}, "description"),
        ({"manufacturer": "So\r\nnos"}, "manufacturer"),
        ({"model": "Arc\x00"}, "model"),
        ({"description": "Soundbar\x1b[2J"}, "description"),
    ],
)
def test_line_fields_are_bounded_with_the_field_named(change, field):
    with pytest.raises(InvalidArgument) as err:
        line(**change)
    assert err.value.field == field


def test_room_names_are_required():
    assert check_room_name(" Cinema ") == "Cinema"
    with pytest.raises(InvalidArgument, match="name is required"):
        check_room_name("")


def test_move_to_places_an_item_at_a_1_based_position():
    assert move_to(["a", "b", "c", "d"], "d", 1) == ["d", "a", "b", "c"]
    assert move_to(["a", "b", "c", "d"], "a", 3) == ["b", "c", "a", "d"]
    assert move_to(["a", "b", "c"], "a", 99) == ["b", "c", "a"]
    assert move_to(["a", "b", "c"], "b", 0) == ["a", "b", "c"]  # 0 keeps the place
    with pytest.raises(InvalidArgument):
        move_to(["a"], "a", -1)


def details(**kw):
    values = {
        "name": "Home cinema",
        "site_address": "14 Larch Lane",
        "project_manager_id": "",
        "project_manager_name": "",
        "project_manager_email": "",
        "visible_contact_ids": [],
        "service_contract": False,
    }
    values.update(kw)
    return check_project_details(**values)


def test_project_details_normalise_contact_ids():
    a = "8a5bd2a4-5b8e-4c34-9d2b-8f7b0a9c1d11"
    got = details(visible_contact_ids=[a.upper(), a, " " + a])
    assert got.visible_contact_ids == (a,)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"site_address": "x" * 501}, "site_address"),
        ({"project_manager_id": "pat"}, "project_manager_id"),
        ({"project_manager_email": "pat at example"}, "project_manager_email"),
        ({"visible_contact_ids": ["jane"]}, "visible_contact_ids"),
        ({"name": "Cinema\r\nBcc: x@evil.example"}, "name"),
        ({"site_address": "14 Larch\tLane"}, "site_address"),
        ({"project_manager_name": "Sam\nLee"}, "project_manager_name"),
        ({"project_manager_email": "sam\x01@acme.example"}, "project_manager_email"),
    ],
)
def test_project_details_are_checked(change, field):
    with pytest.raises(InvalidArgument) as err:
        details(**change)
    assert err.value.field == field


def test_changing_a_line_keeps_what_is_not_changed_and_checks_the_result():
    current = line()
    changed = change_line(current, {"quantity": 3, "room_id": "ignored-here"})
    assert (changed.model, changed.quantity, changed.unit_price_minor) == ("Arc", 3, 89_900)
    with pytest.raises(InvalidArgument) as refused:
        change_line(current, {"model": ""})  # and no description: nothing left to say
    assert refused.value.field == "model"


def test_changing_project_details_checks_only_against_the_merged_whole():
    current = check_project_details(
        name="Cinema",
        site_address="1 Elm St",
        project_manager_id="",
        project_manager_name="",
        project_manager_email="",
        visible_contact_ids=[],
        service_contract=False,
    )
    changed = change_project_details(current, {"service_contract": True})
    assert (changed.name, changed.site_address, changed.service_contract) == (
        "Cinema",
        "1 Elm St",
        True,
    )
    with pytest.raises(InvalidArgument) as refused:
        change_project_details(current, {"project_manager_email": "nope"})
    assert refused.value.field == "project_manager_email"


def test_a_line_description_keeps_its_lines():
    assert line(description=" Soundbar\r\n\tAtmos ").description == "Soundbar\n\tAtmos"


JANE, TOM = "c3a9d1e2-7b4f-4c8a-9d10-1e2f3a4b5c6d", "9ef28c71-63b4-46e7-8faa-c2a1b0dfef03"


def customer(state: str = "active") -> CustomerRecord:
    return CustomerRecord("2d8b1b0a-9c4d-4f70-9e33-5b3a4f6e7d8c", state, frozenset({JANE, TOM}))


def test_a_project_is_for_a_customer_identity_has_and_has_not_deleted():
    assert check_customer(customer("archived")).id == customer().id  # read-only portal: fine
    for found in (None, customer("purged"), customer("deleted")):
        with pytest.raises(InvalidArgument) as err:
            check_customer(found)
        assert err.value.field == "customer_id"


def test_only_the_customers_contacts_may_see_a_project():
    check_visible_contacts([JANE], customer())
    check_visible_contacts([], None)  # nobody named: nothing to check
    stranger = "1c7a0a9f-8b3c-4e6f-8d22-4a2f3e5d6c7b"
    for contacts, found in (([JANE, stranger], customer()), ([JANE], None)):
        with pytest.raises(InvalidArgument, match="is not a contact") as err:
            check_visible_contacts(contacts, found)
        assert err.value.field == "visible_contact_ids"

"""Rooms, product lines and a project's details."""

import pytest

from services.chassis.errors import InvalidArgument
from services.projects.domain import change_project_details, check_project_details
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

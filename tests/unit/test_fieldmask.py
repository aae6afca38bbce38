"""The chassis' reading of AIP-134 update masks, on a real update request."""

from __future__ import annotations

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from portal.identity.v1 import identity_pb2 as ipb
from portal.projects.v1 import projects_pb2 as pb

from services.chassis import errors
from services.chassis.fieldmask import changes, masked_paths

ALLOWED = ("name", "site_address", "visible_contact_ids", "service_contract")


def request(*paths: str, **fields) -> pb.UpdateProjectRequest:
    return pb.UpdateProjectRequest(project_id="p1", update_mask=FieldMask(paths=paths), **fields)


def test_named_paths_change_even_to_a_default_value():
    got = changes(request("site_address", "service_contract", name="ignored"), allowed=ALLOWED)
    assert got == {"site_address": "", "service_contract": False}


def test_no_mask_means_the_fields_set_to_a_non_default_value():
    got = changes(request(name="Cinema", visible_contact_ids=["c1", "c2"]), allowed=ALLOWED)
    assert got == {"name": "Cinema", "visible_contact_ids": ["c1", "c2"]}
    # The identifier is set too, but it is not an updatable field.
    assert "project_id" not in got


def test_no_mask_and_nothing_set_changes_nothing():
    assert changes(request(), allowed=ALLOWED) == {}


def test_a_star_replaces_every_allowed_field():
    got = changes(request("*", name="Cinema"), allowed=ALLOWED)
    assert got == {
        "name": "Cinema",
        "site_address": "",
        "visible_contact_ids": [],
        "service_contract": False,
    }


def test_an_unknown_path_is_refused_by_name():
    with pytest.raises(errors.InvalidArgument) as refused:
        changes(request("name", "stage"), allowed=ALLOWED)
    assert refused.value.field == "update_mask"
    assert "'stage'" in refused.value.message


def test_the_identifier_is_not_an_updatable_path():
    with pytest.raises(errors.InvalidArgument, match="'project_id'"):
        masked_paths(request("project_id"), allowed=ALLOWED)


def test_a_star_mixed_with_paths_is_refused():
    with pytest.raises(errors.InvalidArgument) as refused:
        masked_paths(request("*", "name"), allowed=ALLOWED)
    assert refused.value.field == "update_mask"


def test_repeated_paths_count_once_in_the_allowed_order():
    assert masked_paths(request("service_contract", "name", "name"), allowed=ALLOWED) == [
        "name",
        "service_contract",
    ]


# Paths into a message field, on identity's tenant update (branding is a block).
TENANT_ALLOWED = ("display_name", "branding", "branding.headline", "branding.logo_url")


def tenant_request(*paths: str, **fields) -> ipb.UpdateTenantRequest:
    return ipb.UpdateTenantRequest(update_mask=FieldMask(paths=paths), **fields)


def test_a_sub_path_changes_one_field_of_a_block():
    sent = tenant_request("branding.headline", branding=ipb.Branding(headline="Hi", logo_url="x"))
    assert changes(sent, allowed=TENANT_ALLOWED) == {"branding.headline": "Hi"}


def test_no_mask_and_a_star_take_the_block_whole():
    sent = tenant_request(branding=ipb.Branding(headline="Hi"))
    assert masked_paths(sent, allowed=TENANT_ALLOWED) == ["branding"]
    assert masked_paths(tenant_request("*"), allowed=TENANT_ALLOWED) == ["display_name", "branding"]


def test_an_unknown_sub_path_is_refused_by_name():
    with pytest.raises(errors.InvalidArgument, match=r"'branding\.font'"):
        masked_paths(tenant_request("branding.font"), allowed=TENANT_ALLOWED)

"""What the client is shown and signs, its hash, and the rules of sending and accepting."""

import hashlib
import json
from dataclasses import replace

import pytest

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.projects import domain_proposals as dp
from services.projects.domain_proposals import ProposalStatus, SnapshotLine, SnapshotRoom

SOUNDBAR = SnapshotLine("Sonos", "Arc", "Soundbar", 2, 89_900, True)
CABLES = SnapshotLine("", "HDMI 2.1 cable set", "", 4, 2_499, False)
SWITCH = SnapshotLine("Araknis", "Managed switch", "", 1, 45_000, True)
LIVING = SnapshotRoom("Living room", True, (SOUNDBAR, CABLES))
RACK = SnapshotRoom("Equipment rack", False, (SWITCH,))
TERMS = dp.Terms("Home cinema", "Room by room.", 50_000, 0, 825)


def content(rooms=(LIVING, RACK), terms=TERMS, **kw) -> dp.SignedContent:
    values = {
        "project_reference": "PRJ-0001",
        "project_name": "Harrison residence",
        "version": 1,
        "currency": "USD",
        "rooms": rooms,
        "terms": terms,
    }
    values.update(kw)
    return dp.signed_content(**values)


def test_line_label_joins_manufacturer_model_and_description():
    assert SOUNDBAR.label == "Sonos Arc - Soundbar"
    assert CABLES.label == "HDMI 2.1 cable set"
    assert SnapshotLine("", "", "Labour for rack build", 1, 0, True).label == (
        "Labour for rack build"
    )


def test_hidden_lines_are_summed_into_other_items_so_the_room_adds_up():
    (living, _) = dp.client_rooms([LIVING, RACK])
    assert [line.description for line in living.lines] == ["Sonos Arc - Soundbar"]
    assert living.other_items_minor == 4 * 2_499
    assert living.total_minor == 2 * 89_900 + 4 * 2_499
    assert sum(x.line_total_minor for x in living.lines) + living.other_items_minor == (
        living.total_minor
    )


def test_hidden_rooms_are_not_named_but_their_amounts_are_counted():
    rooms = dp.client_rooms([LIVING, RACK, SnapshotRoom("Plant room", False, (SWITCH,))])
    assert [room.name for room in rooms] == ["Living room", dp.OTHER_ROOMS_NAME]
    other = rooms[-1]
    assert other.lines == () and other.other_items_minor == other.total_minor == 90_000
    # A hidden room hides its lines, even the ones ticked visible.
    assert "Managed switch" not in json.dumps(content().as_dict())


def test_hidden_rooms_with_nothing_in_them_leave_no_trace():
    rooms = dp.client_rooms([LIVING, SnapshotRoom("Garage", False, ())])
    assert [room.name for room in rooms] == ["Living room"]


def test_the_rooms_the_client_sees_add_up_to_the_subtotal_they_sign():
    signed = content(terms=replace(TERMS, discount_minor=10_000))
    rooms_total = sum(room.total_minor for room in signed.rooms)
    assert rooms_total + signed.labour_minor - signed.discount_minor == signed.subtotal_minor
    assert signed.subtotal_minor == 189_796 + 45_000 + 50_000 - 10_000
    assert signed.tax_minor == round(signed.subtotal_minor * 0.0825 + 1e-9)  # 22,671.67 -> 22,672
    assert signed.total_minor == signed.subtotal_minor + signed.tax_minor


def test_canonical_json_is_sorted_compact_utf8():
    text = dp.canonical_json({"b": 1, "a": {"d": "Café", "c": [2, 1]}})
    assert text == '{"a":{"c":[2,1],"d":"Café"},"b":1}'
    assert dp.sha256_hex(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_same_content_always_gives_the_same_hash():
    first = content()
    assert first.sha256() == content().sha256()
    assert len(first.sha256()) == 64
    # Stored as JSON and read back (as the PDF and the client view do): still the same.
    again = dp.SignedContent.from_json(first.canonical_json())
    assert again == first
    assert again.sha256() == first.sha256()


@pytest.mark.parametrize(
    "change",
    [
        {"project_name": "Harrison Residence"},
        {"project_reference": "PRJ-0002"},
        {"version": 2},
        {"currency": "GBP"},
        {"terms": replace(TERMS, title="Home cinema!")},
        {"terms": replace(TERMS, introduction="Room by room")},
        {"terms": replace(TERMS, labour_minor=50_001)},
        {"terms": replace(TERMS, discount_minor=1)},
        {"terms": replace(TERMS, tax_rate_bps=826)},
        {"rooms": (replace(LIVING, name="Lounge"), RACK)},
        {"rooms": (replace(LIVING, lines=(replace(SOUNDBAR, quantity=3), CABLES)), RACK)},
        {
            "rooms": (
                replace(LIVING, lines=(replace(SOUNDBAR, unit_price_minor=89_901), CABLES)),
                RACK,
            )
        },
        {
            "rooms": (
                replace(LIVING, lines=(replace(SOUNDBAR, description="Soundbar."), CABLES)),
                RACK,
            )
        },
        # Showing a hidden line itemises it: the client sees something else.
        {"rooms": (replace(LIVING, lines=(SOUNDBAR, replace(CABLES, client_visible=True))), RACK)},
        {"consent_text": dp.CONSENT_TEXT + " "},
    ],
)
def test_any_change_the_client_can_see_changes_the_hash(change):
    assert content(**change).sha256() != content().sha256()


def test_the_order_of_rooms_is_part_of_what_is_signed():
    kitchen = SnapshotRoom("Kitchen", True, (SWITCH,))
    assert content(rooms=(LIVING, kitchen, RACK)).sha256() != (
        content(rooms=(kitchen, LIVING, RACK)).sha256()
    )
    # Hidden rooms are summed as one, wherever they sit.
    assert content(rooms=(RACK, LIVING)).sha256() == content(rooms=(LIVING, RACK)).sha256()


def test_what_the_client_cannot_see_does_not_change_the_hash_but_its_amount_does():
    renamed = replace(CABLES, model="HDMI cable set (internal note)")
    assert content(rooms=(replace(LIVING, lines=(SOUNDBAR, renamed)), RACK)).sha256() == (
        content().sha256()
    )
    dearer = replace(CABLES, unit_price_minor=2_500)
    assert content(rooms=(replace(LIVING, lines=(SOUNDBAR, dearer)), RACK)).sha256() != (
        content().sha256()
    )


def test_the_signed_content_holds_the_consent_text_and_a_format_marker():
    data = content().as_dict()
    assert data["consent_text"] == dp.CONSENT_TEXT
    assert data["format"] == dp.CONTENT_FORMAT
    assert set(data) == {
        "format", "project", "version", "title", "introduction", "currency", "rooms",
        "labour_minor", "discount_minor", "tax_rate_bps", "subtotal_minor", "tax_minor",
        "total_minor", "consent_text",
    }  # fmt: skip


def test_terms_are_checked_with_field_names():
    with pytest.raises(InvalidArgument, match="title is required") as err:
        dp.check_terms(title=" ", introduction="", labour_minor=0, discount_minor=0, tax_rate_bps=0)
    assert err.value.field == "title"
    with pytest.raises(InvalidArgument) as err:
        dp.check_terms(
            title="x", introduction="", labour_minor=0, discount_minor=0, tax_rate_bps=5_001
        )
    assert err.value.field == "tax_rate_bps"
    with pytest.raises(InvalidArgument) as err:
        dp.check_terms(
            title="x", introduction="", labour_minor=-5, discount_minor=0, tax_rate_bps=0
        )
    assert err.value.field == "labour_minor"


def test_a_discount_larger_than_the_proposal_is_refused():
    with pytest.raises(InvalidArgument) as err:
        dp.proposal_totals([LIVING], replace(TERMS, labour_minor=0, discount_minor=189_797))
    assert err.value.field == "discount_minor"


def test_clients_never_see_drafts():
    assert not dp.client_may_see(ProposalStatus.DRAFT)
    assert all(
        dp.client_may_see(s)
        for s in (ProposalStatus.SENT, ProposalStatus.ACCEPTED, ProposalStatus.SUPERSEDED)
    )


def test_only_drafts_can_be_edited():
    dp.require_draft(ProposalStatus.DRAFT, 1)
    with pytest.raises(InvalidTransition, match="contract baseline"):
        dp.require_draft(ProposalStatus.ACCEPTED, 2)
    with pytest.raises(InvalidTransition, match="create a new version"):
        dp.require_draft(ProposalStatus.SENT, 2)


def send(**kw):
    values = {
        "status": ProposalStatus.DRAFT,
        "version": 2,
        "lines": 3,
        "accepted_version": None,
        "latest_sent_version": 1,
    }
    values.update(kw)
    dp.check_send(**values)


def test_a_draft_with_lines_can_be_sent():
    send()
    send(latest_sent_version=None)


def test_a_proposal_with_no_lines_cannot_be_sent():
    with pytest.raises(InvalidTransition, match="no product lines"):
        send(lines=0)


def test_only_a_draft_can_be_sent():
    for status in (ProposalStatus.ACCEPTED, ProposalStatus.SUPERSEDED):
        with pytest.raises(InvalidTransition, match="only a draft"):
            send(status=status)


def test_nothing_is_sent_after_a_proposal_was_accepted():
    with pytest.raises(InvalidTransition, match="change orders"):
        send(accepted_version=1)
    with pytest.raises(InvalidTransition, match="change orders"):
        dp.check_new_version(1)
    dp.check_new_version(None)


def test_an_older_draft_cannot_be_sent_after_a_newer_version():
    with pytest.raises(InvalidTransition, match="v3 has already been sent"):
        send(version=2, latest_sent_version=3)


def test_the_waiting_item_reads_as_an_instruction():
    assert dp.waiting_title(3) == "Review and accept proposal v3"
    assert dp.proposal_link("p1") == "/projects/p1/proposal"


def test_changing_terms_keeps_the_rest_and_checks_them():
    current = dp.check_terms(
        title="Cinema", introduction="", labour_minor=100, discount_minor=0, tax_rate_bps=825
    )
    changed = dp.change_terms(current, {"tax_rate_bps": 500})
    assert (changed.title, changed.labour_minor, changed.tax_rate_bps) == ("Cinema", 100, 500)
    with pytest.raises(InvalidArgument) as refused:
        dp.change_terms(current, {"title": " "})
    assert refused.value.field == "title"

"""What the project pages compute before rendering: money for people, amounts
typed into the console, the contact mailto: link, the stage track, dates,
waiting-item links, which proposal to show, who may sign, and the PDF's name."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote

import pytest
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2

from gateway.api.projects import StageInfo, project_out, stage_info_out
from gateway.api.proposal_shapes import proposal_out
from gateway.api.proposals import content_disposition
from gateway.pages.project_views import (
    current_proposal,
    date_span,
    human_date,
    mailto,
    move_choices,
    project_contact,
    safe_portal_path,
    signing_state,
    stage_label,
    stage_track,
    without_repeated_notes,
)
from services.chassis.auth import Principal
from services.chassis.money import (
    exponent,
    format_amount,
    format_money,
    format_percent_bps,
    parse_amount,
    parse_percent_bps,
)

P = projects_pb2


# -- money ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1_234_567, "USD", "$12,345.67"),
        (5, "USD", "$0.05"),
        (0, "USD", "$0.00"),
        (-50_000, "GBP", "-£500.00"),
        (100_000_000, "EUR", "€1,000,000.00"),
        (123_456, "CAD", "CA$1,234.56"),
        (99, "AUD", "A$0.99"),
        (123_456, "CHF", "CHF 1,234.56"),
        (123_456, "usd", "$1,234.56"),
        (5_000, "JPY", "¥5,000"),
        (1_234_567, "KWD", "KWD 1,234.567"),
    ],
)
def test_money_is_written_with_its_currency(minor: int, currency: str, text: str) -> None:
    assert format_amount(minor, currency) == text


def test_unset_money_is_a_dash_not_zero_dollars() -> None:
    assert format_money(None) == "—"
    assert format_money(common_pb2.Money()) == "—"
    assert format_money(common_pb2.Money(currency="USD", amount_minor=199)) == "$1.99"


def test_minor_units_follow_iso_4217() -> None:
    assert (exponent("USD"), exponent("JPY"), exponent("BHD"), exponent("XYZ")) == (2, 0, 3, 2)


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("1,234.56", 123_456), ("$1234.5", 123_450), ("12", 1_200), ("", 0), (" 0.99 ", 99)],
)
def test_amounts_typed_in_the_console_become_minor_units(typed: str, minor: int) -> None:
    assert parse_amount(typed, "USD") == minor


@pytest.mark.parametrize("typed", ["abc", "-5", "1.234", "NaN", "Infinity", "1e30"])
def test_amounts_that_are_not_amounts_are_refused_with_a_sentence(typed: str) -> None:
    with pytest.raises(ValueError, match=r"\.$"):
        parse_amount(typed, "USD")


def test_zero_decimal_currencies_take_no_cents() -> None:
    assert parse_amount("5,000", "JPY") == 5_000
    with pytest.raises(ValueError, match="0 decimal places"):
        parse_amount("50.5", "JPY")


def test_tax_rates_are_basis_points() -> None:
    assert (parse_percent_bps("8.25"), parse_percent_bps("20 %"), parse_percent_bps("")) == (
        825,
        2000,
        0,
    )
    assert (format_percent_bps(825), format_percent_bps(800), format_percent_bps(850)) == (
        "8.25",
        "8",
        "8.5",
    )
    for bad in ("101", "-1", "8.125", "x"):
        with pytest.raises(ValueError):
            parse_percent_bps(bad)


# -- contacting the team ------------------------------------------------------------------


def _parts(href: str) -> tuple[str, dict[str, str]]:
    assert href.startswith("mailto:")
    to, _, query = href.removeprefix("mailto:").partition("?")
    # parse_qs decodes + as a space; a mailto: must not rely on that.
    assert "+" not in query
    return unquote(to), {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def test_a_mailto_link_encodes_everything_that_could_break_out() -> None:
    href = mailto(
        "pm@acme.example",
        subject="Tom & Jerry? #1 100% done",
        body="Hi,\nsee cc=boss@x.example&bcc=me",
    )
    to, fields = _parts(href)
    assert to == "pm@acme.example"
    assert set(fields) == {"subject", "body"}  # no smuggled cc or bcc
    assert fields["subject"] == "Tom & Jerry? #1 100% done"
    assert fields["body"] == "Hi,\r\nsee cc=boss@x.example&bcc=me"
    assert "%20" in href and "%0D%0A" in href and "%26" in href and "%3F" in href


def test_the_contact_button_writes_to_the_project_manager_with_the_project_named() -> None:
    project = project_out(
        P.Project(
            name="Cinema & Sons? Home theatre",
            reference="PRJ-0007",
            project_manager_name="Sam Lee",
            project_manager_email="sam@acme.example",
            stage=P.STAGE_DESIGN,
        )
    )
    contact = project_contact(
        project, team_name="Acme", support_email="help@acme.example", client_name="Jane & Tom?"
    )
    assert contact is not None
    to, fields = _parts(contact.href)
    assert to == "sam@acme.example" and contact.who == "Sam Lee, your project manager"
    assert fields["subject"] == "Cinema & Sons? Home theatre (PRJ-0007)"
    body = fields["body"]
    assert body.startswith("Hello Sam,")
    assert "Project: Cinema & Sons? Home theatre" in body
    assert "Reference: PRJ-0007" in body
    assert "From: Jane & Tom?" in body


def test_without_a_project_manager_the_email_goes_to_the_tenants_support_address() -> None:
    project = project_out(
        P.Project(name="Kitchen audio", reference="PRJ-0002", stage=P.STAGE_DESIGN)
    )
    contact = project_contact(
        project, team_name="Acme", support_email="help@acme.example", client_name="Jane"
    )
    assert contact is not None
    assert _parts(contact.href)[0] == "help@acme.example"
    assert contact.who == "the Acme team"
    assert _parts(contact.href)[1]["body"].startswith("Hello,")
    assert project_contact(project, team_name="Acme", support_email="", client_name="J") is None


# -- the stage track ------------------------------------------------------------------------


def _stages(**by_name: dict) -> list[StageInfo]:
    """The API's stage rows, as the board answers them."""
    names = ["design", "procurement", "install", "commissioning", "handover"]
    return [
        stage_info_out(P.StageInfo(stage=i + 1, **by_name.get(name, {})))
        for i, name in enumerate(names)
    ]


def test_the_track_has_five_steps_done_current_and_next() -> None:
    steps = stage_track(
        "install",
        _stages(
            design={"actual_finish": "2026-02-02"},
            install={
                "actual_start": "2026-03-04",
                "planned_finish": "2026-04-10",
                "client_note": "Screen wall framed.",
            },
            commissioning={"planned_start": "2026-04-13", "planned_finish": "2026-04-24"},
        ),
    )
    assert [s.key for s in steps] == [
        "design",
        "procurement",
        "install",
        "commissioning",
        "handover",
    ]
    assert [s.state for s in steps] == ["done", "done", "current", "next", "next"]
    assert steps[0].dates == ["Finished 2 Feb 2026"]
    assert steps[1].dates == []
    assert steps[2].dates == ["Started 4 Mar 2026", "Expected to finish 10 Apr 2026"]
    assert steps[2].note == "Screen wall framed." and steps[2].state_label == "Current stage"
    assert steps[3].dates == ["Planned 13 \u2013 24 Apr 2026"]
    assert steps[4].dates == ["Not scheduled yet"]


def test_a_finished_handover_marks_the_whole_project_done() -> None:
    steps = stage_track("handover", _stages(handover={"actual_finish": "2026-05-01"}))
    assert {s.state for s in steps} == {"done"}
    assert steps[-1].dates == ["Finished 1 May 2026"]


def test_missing_stage_rows_still_give_five_steps_and_notes_show_only_when_current() -> None:
    install = stage_info_out(P.StageInfo(stage=P.STAGE_INSTALL, client_note="x"))
    steps = stage_track("design", [install])
    assert [s.state for s in steps] == ["current", "next", "next", "next", "next"]
    assert all(not s.note for s in steps)
    assert [s.state for s in stage_track(None, [])] == ["next"] * 5


def test_dates_read_like_people_write_them() -> None:
    assert human_date("2026-03-12") == "12 Mar 2026"
    assert human_date("") == human_date("not a date") == ""
    assert date_span("2026-03-28", "2026-04-04") == "28 Mar \u2013 4 Apr 2026"
    assert date_span("2026-12-20", "2027-01-08") == "20 Dec 2026 \u2013 8 Jan 2027"
    assert date_span("2026-03-03", "2026-03-03") == "3 Mar 2026"
    assert date_span("2026-03-03", "") == "from 3 Mar 2026"
    assert date_span("", "2026-03-03") == "until 3 Mar 2026"


# -- waiting items, proposals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "safe"),
    [
        ("/projects/1/proposal", "/projects/1/proposal"),
        ("//evil.example/x", None),
        ("https://evil.example", None),
        ("javascript:alert(1)", None),
        ("/\\evil.example", None),
        ("/a\nb", None),
        ("", None),
    ],
)
def test_waiting_items_link_only_within_the_portal(link: str, safe: str | None) -> None:
    assert safe_portal_path(link) == safe


def _proposal(version: int, status: int) -> projects_pb2.Proposal:
    return P.Proposal(id=f"p{version}", version=version, status=status)


def test_the_proposal_shown_is_the_one_awaiting_the_client_else_the_accepted_one() -> None:
    accepted, sent = _proposal(1, P.PROPOSAL_STATUS_ACCEPTED), _proposal(2, P.PROPOSAL_STATUS_SENT)
    superseded = _proposal(3, P.PROPOSAL_STATUS_SUPERSEDED)
    assert current_proposal([accepted, sent, superseded]) is sent
    assert current_proposal([accepted, superseded]) is accepted
    assert current_proposal([superseded, _proposal(1, P.PROPOSAL_STATUS_SUPERSEDED)]) is superseded
    assert current_proposal([]) is None


def _client(*roles: str, read_only: bool = False) -> Principal:
    return Principal(
        kind="client", subject="c", tenant_id="t", roles=frozenset(roles), read_only=read_only
    )


def test_only_an_approver_who_may_act_is_offered_the_signature_form() -> None:
    sent = proposal_out(_proposal(1, P.PROPOSAL_STATUS_SENT))
    assert signing_state(sent, _client("approver")) == "sign"
    assert signing_state(sent, _client("viewer")) == "viewer"
    assert signing_state(sent, _client("approver", read_only=True)) == "read_only"
    accepted = proposal_out(_proposal(1, P.PROPOSAL_STATUS_ACCEPTED))
    assert signing_state(accepted, _client("approver")) == "closed"


def test_the_pdf_filename_is_safe_in_a_header_and_kept_exactly_for_modern_browsers() -> None:
    header = content_disposition('PRJ-0007 "signed"\r\nX: y/../é.pdf')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="PRJ-0007_signed_X_y_.._')
    assert header.endswith(".pdf")
    assert "filename*=UTF-8''PRJ-0007%20%22signed%22" in header
    assert content_disposition("").startswith('attachment; filename="proposal.pdf"')
    assert 'filename="report.pdf"' in content_disposition("report")


def test_a_note_already_in_the_teams_latest_is_not_repeated_on_the_track() -> None:
    steps = stage_track("install", _stages(install={"client_note": "Dust today."}))
    assert without_repeated_notes(steps, [" Dust today. "])[2].note == ""
    assert without_repeated_notes(steps, ["Other news"])[2].note == "Dust today."


def test_stage_labels_read_the_same_from_the_apis_names_and_the_enum() -> None:
    assert stage_label("install") == stage_label(P.STAGE_INSTALL) == "Install"
    # Where a history starts there is no stage: the chassis's dash, either way.
    assert stage_label(None) == stage_label(P.STAGE_UNSPECIFIED) == "\u2014"
    assert stage_label("no_such_stage") == "\u2014"


def test_the_stage_form_preselects_the_next_stage_not_design():
    choices, preselected = move_choices("install")
    assert [name for name, _ in choices] == ["design", "procurement", "commissioning", "handover"]
    assert preselected == "commissioning"
    assert move_choices("design")[1] == "procurement"
    # At handover every move is backwards: nothing is preselected for the staff.
    assert move_choices("handover")[1] is None

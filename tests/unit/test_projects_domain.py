import pytest

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.validation import require_text
from services.projects.domain import Stage, plan_stage_move, project_reference


def test_forward_move_needs_no_reason():
    move = plan_stage_move(
        Stage.DESIGN, Stage.PROCUREMENT, reason="", client_note=" Parts ordered "
    )
    assert (move.from_stage, move.to_stage, move.backwards) == (
        Stage.DESIGN,
        Stage.PROCUREMENT,
        False,
    )
    assert move.client_note == "Parts ordered"


def test_forward_move_may_skip_a_stage():
    assert plan_stage_move(Stage.DESIGN, Stage.INSTALL, reason="", client_note="").to_stage == (
        Stage.INSTALL
    )


def test_moving_back_needs_a_reason():
    with pytest.raises(InvalidArgument, match="needs a reason") as err:
        plan_stage_move(Stage.INSTALL, Stage.PROCUREMENT, reason="  ", client_note="")
    assert err.value.field == "reason"
    move = plan_stage_move(
        Stage.INSTALL, Stage.PROCUREMENT, reason="Projector back-ordered", client_note=""
    )
    assert move.backwards


def test_moving_to_the_current_stage_is_refused():
    with pytest.raises(InvalidTransition, match="already in Install"):
        plan_stage_move(Stage.INSTALL, Stage.INSTALL, reason="", client_note="")


def test_overlong_note_is_refused():
    with pytest.raises(InvalidArgument):
        plan_stage_move(Stage.DESIGN, Stage.INSTALL, reason="", client_note="x" * 2001)


def test_reference_is_zero_padded():
    assert project_reference(7) == "PRJ-0007"
    assert project_reference(12345) == "PRJ-12345"


def test_required_text():
    assert require_text("  Cinema ", field="name") == "Cinema"
    with pytest.raises(InvalidArgument, match="name is required"):
        require_text("   ", field="name")
    with pytest.raises(InvalidArgument, match="longer than"):
        require_text("x" * 201, field="name")


def test_a_project_is_priced_in_the_tenants_currency_else_usd():
    from services.chassis.errors import InvalidArgument
    from services.projects.domain_money import project_currency

    assert project_currency("gbp") == "GBP"
    assert project_currency("") == "USD"
    with pytest.raises(InvalidArgument):
        project_currency("pounds")

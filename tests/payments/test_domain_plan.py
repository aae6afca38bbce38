"""The payment plan: fixed shares, the last takes the rest, exactly once each."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.payments import domain_plan as plan
from services.payments.domain_plan import Contract, Invoiced, Trigger


def _invoice_all(milestones, contract, order=None):
    invoiced: list[Invoiced] = []
    for trigger in order or [m.trigger for m in milestones]:
        for due in plan.due_on_reaching(milestones, trigger, invoiced):
            amount = plan.amount_for(milestones, due, contract, invoiced)
            if amount:
                invoiced.append(Invoiced(due, amount.total_minor, amount.tax_minor))
    return invoiced


def test_the_default_plan_is_fifty_forty_ten():
    contract = Contract(total_minor=1_000_001, tax_minor=76_924)
    invoiced = _invoice_all(plan.DEFAULT_PLAN, contract)
    assert [i.total_minor for i in invoiced] == [500_001, 400_000, 100_000]
    assert sum(i.tax_minor for i in invoiced) == 76_924


def test_an_event_arriving_twice_invoices_once():
    contract = Contract(100_000, 0)
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 50_000, 0)]
    assert plan.amount_for(plan.DEFAULT_PLAN, Trigger.ACCEPTANCE, contract, invoiced) is None


def test_a_skipped_stage_invoices_the_milestones_it_passed():
    due = plan.due_on_reaching(plan.DEFAULT_PLAN, Trigger.HANDOVER, [])
    assert due == [Trigger.ACCEPTANCE, Trigger.INSTALL, Trigger.HANDOVER]


def test_a_variation_lands_on_the_milestones_not_yet_invoiced():
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 50_000, 0)]
    grown = Contract(120_000, 0)  # a change order added 20,000
    install = plan.amount_for(plan.DEFAULT_PLAN, Trigger.INSTALL, grown, invoiced)
    assert install and install.total_minor == 48_000
    invoiced.append(Invoiced(Trigger.INSTALL, 48_000, 0))
    handover = plan.amount_for(plan.DEFAULT_PLAN, Trigger.HANDOVER, grown, invoiced)
    assert handover and handover.total_minor == 22_000


def test_credits_that_eat_the_last_milestone_bill_nothing_more():
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 50_000, 0), Invoiced(Trigger.INSTALL, 40_000, 0)]
    shrunk = Contract(85_000, 0)
    assert plan.amount_for(plan.DEFAULT_PLAN, Trigger.HANDOVER, shrunk, invoiced) is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "at least one"),
        ([("Deposit", "acceptance", 5_000)], "add up to 100 %"),
        ([("Deposit", "acceptance", 10_001)], "at most 100 %"),
        ([("A", "install", 5_000), ("B", "acceptance", 5_000)], "order"),
        ([("A", "install", 5_000), ("B", "install", 5_000)], "one milestone"),
        ([("A", "someday", 10_000)], "due at one of"),
        ([("", "acceptance", 10_000)], "label is required"),
    ],
)
def test_a_bad_plan_is_refused_with_a_reason(rows, message):
    with pytest.raises(InvalidArgument) as err:
        plan.check_plan(rows)
    assert message in err.value.message


def test_an_invoiced_milestone_cannot_be_edited_but_the_rest_can():
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 50_000, 0)]
    moved = plan.check_plan([("Deposit", "acceptance", 3_000), ("Rest", "handover", 7_000)])
    with pytest.raises(InvalidTransition):
        plan.plan_replace(plan.DEFAULT_PLAN, moved, invoiced)
    kept = plan.check_plan([("Deposit", "acceptance", 5_000), ("Rest", "handover", 5_000)])
    assert plan.plan_replace(plan.DEFAULT_PLAN, kept, invoiced) == kept


def test_next_milestone_is_what_the_board_shows():
    contract = Contract(100_000, 0)
    nxt = plan.next_milestone(
        plan.DEFAULT_PLAN, contract, [Invoiced(Trigger.ACCEPTANCE, 50_000, 0)]
    )
    assert nxt and (nxt.trigger, nxt.total_minor, nxt.label) == (
        Trigger.INSTALL,
        40_000,
        "Installation",
    )


shares = st.lists(st.integers(1, 5_000), min_size=1, max_size=4).filter(lambda xs: sum(xs) < 10_000)


@given(
    total=st.integers(1, 10**12),
    tax_share=st.integers(0, 50),
    head=shares,
    order=st.permutations(list(Trigger)),
)
def test_milestones_always_sum_to_the_contract_exactly(total, tax_share, head, order):
    triggers = list(Trigger)[: len(head) + 1]
    rows = [(f"M{i}", t.value, s) for i, (t, s) in enumerate(zip(triggers, head, strict=False))]
    rows.append((f"M{len(head)}", triggers[len(head)].value, 10_000 - sum(head)))
    milestones = plan.check_plan(rows)
    contract = Contract(total, total * tax_share // 100)
    invoiced = _invoice_all(milestones, contract, order=list(order))
    assert sum(i.total_minor for i in invoiced) == total
    assert sum(i.tax_minor for i in invoiced) == contract.tax_minor
    assert all(0 <= i.tax_minor <= i.total_minor for i in invoiced)
    assert len({i.trigger for i in invoiced}) == len(invoiced)


def test_the_next_payment_is_the_first_milestone_not_yet_paid():
    from services.payments.domain_plan import (
        DEFAULT_PLAN,
        Contract,
        Invoiced,
        MilestoneAmount,
        Trigger,
        next_to_pay,
    )

    contract = Contract(total_minor=1_000_001, tax_minor=0)
    deposit = Invoiced(Trigger.ACCEPTANCE, 500_001, 0)
    # Nothing invoiced: the deposit, as it would be invoiced.
    first = next_to_pay(DEFAULT_PLAN, contract, [], {})
    assert first == MilestoneAmount(Trigger.ACCEPTANCE, "Deposit", 500_001, 0)
    # Invoiced and part paid: what is left on it.
    left = next_to_pay(DEFAULT_PLAN, contract, [deposit], {Trigger.ACCEPTANCE: 1_234})
    assert (left.trigger, left.total_minor) == (Trigger.ACCEPTANCE, 1_234)
    # Paid: the installation, its share of the contract.
    nxt = next_to_pay(DEFAULT_PLAN, contract, [deposit], {Trigger.ACCEPTANCE: 0})
    assert (nxt.label, nxt.total_minor) == ("Installation", 400_000)
    # All paid: nothing.
    done = [deposit, Invoiced(Trigger.INSTALL, 400_000, 0), Invoiced(Trigger.HANDOVER, 100_000, 0)]
    assert next_to_pay(DEFAULT_PLAN, contract, done, {}) is None

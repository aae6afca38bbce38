"""Variations on the invoice schedule: each rule bills where it says, a credit
never takes a milestone below zero, and the invoices always sum to the
contract (proposal + every variation) to the minor unit."""

from hypothesis import given, settings
from hypothesis import strategies as st

from services.payments import domain_plan as plan
from services.payments import domain_variations as v
from services.payments.domain_plan import DEFAULT_PLAN, NOTHING, Contract, Invoiced, Part, Trigger
from services.payments.domain_variations import VariationRule


def _issue(milestones, contract, invoiced, reached):
    for due in plan.due_on_reaching(milestones, reached, invoiced):
        amount = plan.amount_for(milestones, due, contract, invoiced)
        if amount:
            invoiced.append(Invoiced(due, amount.total_minor, amount.tax_minor))


def test_spread_over_install_and_handover_in_proportion():
    contract = Contract(1_000_000, 0)
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 500_000, 0)]
    got = v.plan_variation(
        rule=VariationRule.SPREAD,
        plan=DEFAULT_PLAN,
        contract=contract,
        invoiced=invoiced,
        impact=Part(100_001, 0),
    )
    # 40 : 10 of what is left; the odd minor unit goes to the larger remainder.
    assert got.added == {Trigger.INSTALL: Part(80_001, 0), Trigger.HANDOVER: Part(20_000, 0)}
    assert got.now == NOTHING
    after = v.with_variation(contract, got)
    install = plan.amount_for(DEFAULT_PLAN, Trigger.INSTALL, after, invoiced)
    assert install is not None and install.total_minor == 400_000 + 80_001


def test_next_milestone_takes_it_all_and_the_install_payment_rises():
    contract = Contract(1_000_000, 0)
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 500_000, 0)]
    got = v.plan_variation(
        rule=VariationRule.NEXT_MILESTONE,
        plan=DEFAULT_PLAN,
        contract=contract,
        invoiced=invoiced,
        impact=Part(60_000, 10_000),
    )
    assert got.added == {Trigger.INSTALL: Part(60_000, 10_000)}
    before = v.pending(DEFAULT_PLAN, contract, invoiced)
    after = v.pending(DEFAULT_PLAN, v.with_variation(contract, got), invoiced)
    assert [a.total_minor for a in before] == [400_000, 100_000]
    assert [a.total_minor for a in after] == [460_000, 100_000]


def test_invoice_rule_bills_on_approval_and_a_negative_one_is_a_credit_note():
    contract = Contract(1_000_000, 0)
    for impact in (Part(25_000, 4_167), Part(-25_000, -4_167)):
        got = v.plan_variation(
            rule=VariationRule.INVOICE,
            plan=DEFAULT_PLAN,
            contract=contract,
            invoiced=[],
            impact=impact,
        )
        assert got.added == {} and got.now == impact


def test_a_credit_larger_than_the_next_milestone_passes_on_then_credits_the_rest():
    contract = Contract(1_000_000, 0)
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 500_000, 0)]
    got = v.plan_variation(
        rule=VariationRule.NEXT_MILESTONE,
        plan=DEFAULT_PLAN,
        contract=contract,
        invoiced=invoiced,
        impact=Part(-600_000, 0),
    )
    # Install (400,000) and handover (100,000) go to zero; 100,000 is credited now.
    assert got.added == {Trigger.INSTALL: Part(-400_000, 0), Trigger.HANDOVER: Part(-100_000, 0)}
    assert got.now == Part(-100_000, 0)


def test_with_every_milestone_invoiced_the_variation_is_invoiced_on_its_own():
    contract = Contract(100_000, 0)
    invoiced = [Invoiced(m.trigger, 0, 0) for m in DEFAULT_PLAN]
    got = v.plan_variation(
        rule=VariationRule.SPREAD,
        plan=DEFAULT_PLAN,
        contract=contract,
        invoiced=invoiced,
        impact=Part(-5_000, 0),
    )
    assert got.added == {} and got.now == Part(-5_000, 0)


def test_a_stage_already_reached_is_not_the_next_milestone():
    contract = Contract(1_000_000, 0)
    invoiced = [Invoiced(Trigger.ACCEPTANCE, 500_000, 0), Invoiced(Trigger.INSTALL, 400_000, 0)]
    got = v.plan_variation(
        rule=VariationRule.NEXT_MILESTONE,
        plan=DEFAULT_PLAN,
        contract=contract,
        invoiced=invoiced,
        impact=Part(1_000, 0),
        reached=Trigger.INSTALL,
    )
    assert got.added == {Trigger.HANDOVER: Part(1_000, 0)}


stages = [t for t in Trigger if t is not Trigger.ACCEPTANCE]
step = st.one_of(
    st.tuples(st.just("reach"), st.sampled_from(stages)),
    st.tuples(
        st.just("vary"),
        st.sampled_from(list(VariationRule)),
        st.integers(-(10**9), 10**9),
    ),
)


@settings(max_examples=300)
@given(
    total=st.integers(1, 10**10),
    tax_share=st.integers(0, 30),
    steps=st.lists(step, max_size=8),
)
def test_invoices_always_sum_to_the_contract_whatever_the_rules(total, tax_share, steps):
    contract = Contract(total, total * tax_share // 100)
    invoiced: list[Invoiced] = []
    now_parts: list[Part] = []
    contract_total, contract_tax = contract.total_minor, contract.tax_minor
    reached = Trigger.ACCEPTANCE
    _issue(DEFAULT_PLAN, contract, invoiced, reached)
    for s in steps:
        if s[0] == "reach":
            reached = max(reached, s[1], key=plan.TRIGGER_ORDER.index)
            _issue(DEFAULT_PLAN, contract, invoiced, s[1])
            continue
        _, rule, impact = s
        impact = max(impact, -contract_total)  # changeorders never prices below zero
        # The contract's own tax rate (a change order is taxed as the proposal was).
        tax = abs(impact) * tax_share // 100
        part = Part(impact, tax if impact >= 0 else -tax)
        got = v.plan_variation(
            rule=rule,
            plan=DEFAULT_PLAN,
            contract=contract,
            invoiced=invoiced,
            impact=part,
            reached=reached,
        )
        assert got.total_minor == impact
        assert got.now.total_minor * impact >= 0  # a credit note credits, an invoice bills
        assert got.now.tax_minor + sum(p.tax_minor for p in got.added.values()) == part.tax_minor
        contract = v.with_variation(contract, got)
        if got.now != NOTHING:
            now_parts.append(got.now)
        contract_total += impact
        contract_tax += part.tax_minor
        for ahead in v.pending(DEFAULT_PLAN, contract, invoiced, reached):
            assert ahead.total_minor >= 0
    _issue(DEFAULT_PLAN, contract, invoiced, Trigger.HANDOVER)
    assert all(i.total_minor > 0 for i in invoiced)
    billed = sum(i.total_minor for i in invoiced) + sum(p.total_minor for p in now_parts)
    assert billed == contract_total
    taxed = sum(i.tax_minor for i in invoiced) + sum(p.tax_minor for p in now_parts)
    if invoiced and invoiced[-1].trigger is Trigger.HANDOVER:
        # The last invoice takes the rest of the tax; only a credit that ate it whole
        # (nothing left to bill) leaves a minor unit of tax with nowhere to go.
        assert taxed == contract_tax

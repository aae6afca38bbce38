"""An approved change order's price impact on the invoice schedule.

The tenant's rule says where a variation is billed (`VariationRule`):

- `invoice`: a variation invoice of its own on approval (a credit note when
  the change takes money off);
- `next_milestone`: added to the next milestone still to invoice;
- `spread`: spread over the milestones still to invoice, in proportion to
  their shares (largest remainder: no minor unit lost or invented).

Whatever the rule, the invoices sum to the contract (the accepted proposal
plus every approved variation) to the minor unit: what a milestone takes on
is fixed at approval (`Contract.added`), the last milestone still takes the
rest, and a credit is never allowed to take a milestone below zero; what the
milestones still to invoice cannot absorb (or everything, when none are
left) becomes a variation invoice or credit note issued now.

The tax inside the impact is split in proportion to the amounts, so the
taxes sum to the contract's tax too.

Pure: the caller loads the plan, what was invoiced and the contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.chassis.errors import InvalidArgument
from services.chassis.money import allocate
from services.payments import domain_plan
from services.payments.domain_plan import (
    NOTHING,
    TRIGGER_ORDER,
    Contract,
    Invoiced,
    Milestone,
    MilestoneAmount,
    Part,
    Trigger,
)


class VariationRule(StrEnum):
    INVOICE = "invoice"
    NEXT_MILESTONE = "next_milestone"
    SPREAD = "spread"


DEFAULT_RULE = VariationRule.SPREAD


def check_rule(value: str) -> VariationRule:
    try:
        return VariationRule(value)
    except ValueError:
        names = ", ".join(r.value for r in VariationRule)
        raise InvalidArgument(
            f"variations are billed by one of: {names}", field="variation_rule"
        ) from None


@dataclass(frozen=True)
class VariationPlan:
    """Where one variation is billed: onto milestones still to invoice, and
    (positive: an invoice; negative: a credit note) what is issued now."""

    added: Mapping[Trigger, Part]
    now: Part  # NOTHING when nothing is issued on approval

    @property
    def total_minor(self) -> int:
        return self.now.total_minor + sum(p.total_minor for p in self.added.values())


def pending(
    plan: Sequence[Milestone],
    contract: Contract,
    invoiced: Sequence[Invoiced],
    reached: Trigger = Trigger.ACCEPTANCE,
) -> list[MilestoneAmount]:
    """What each milestone still to come would invoice today, in plan order:
    not invoiced, and its stage not reached yet (one skipped at nothing has
    passed; the last still to invoice takes what it would have)."""
    passed = TRIGGER_ORDER.index(reached)
    return [
        a
        for a in domain_plan.projected(plan, contract, invoiced)
        if TRIGGER_ORDER.index(a.trigger) > passed
    ]


def plan_variation(
    *,
    rule: VariationRule,
    plan: Sequence[Milestone],
    contract: Contract,
    invoiced: Sequence[Invoiced],
    impact: Part,
    reached: Trigger = Trigger.ACCEPTANCE,
) -> VariationPlan:
    """Where a variation of `impact` (tax inside) is billed under `rule`,
    on a project whose furthest stage is `reached`."""
    if impact.total_minor == 0:
        return VariationPlan({}, NOTHING)
    left = pending(plan, contract, invoiced, reached)
    if rule is VariationRule.INVOICE or not left:
        return VariationPlan({}, impact)
    shares = [m.share_bps for m in plan if m.trigger in {a.trigger for a in left}]
    if rule is VariationRule.NEXT_MILESTONE:
        wanted = [impact.total_minor] + [0] * (len(left) - 1)
    else:
        wanted = allocate(impact.total_minor, shares)
    totals, rest = _absorb(wanted, [a.total_minor for a in left])
    taxes = _split_tax(impact.tax_minor, [*totals, rest])
    added = {
        a.trigger: Part(t, tax) for a, t, tax in zip(left, totals, taxes, strict=False) if t != 0
    }
    return VariationPlan(added, Part(rest, taxes[-1]) if rest else NOTHING)


def _absorb(wanted: list[int], available: list[int]) -> tuple[list[int], int]:
    """A credit takes each milestone down to zero at most; what one cannot
    take passes to the next still able to, and what none can is the rest.
    A positive variation is taken whole."""
    if sum(wanted) >= 0:
        return wanted, 0
    room = list(available)
    taken = [0] * len(wanted)
    carry = 0
    for i, want in enumerate(wanted):
        take = max(want + carry, -room[i])
        taken[i], carry = take, want + carry - take
        room[i] += take
    # A second pass from the start: an earlier milestone may still have room.
    for i in range(len(taken)):
        if carry == 0:
            break
        take = max(carry, -room[i])
        taken[i] += take
        room[i] += take
        carry -= take
    return taken, carry


def _split_tax(tax_minor: int, totals: Sequence[int]) -> list[int]:
    """The tax in proportion to the parts (all one sign), summing exactly."""
    weights = [abs(t) for t in totals]
    if sum(weights) == 0:
        return [0] * len(totals)
    return allocate(tax_minor, weights)


def with_variation(contract: Contract, variation: VariationPlan) -> Contract:
    """The contract the milestones bill once the variation is approved."""
    added = dict(contract.added)
    for trigger, part in variation.added.items():
        before = added.get(trigger, NOTHING)
        added[trigger] = Part(
            before.total_minor + part.total_minor, before.tax_minor + part.tax_minor
        )
    return Contract(contract.total_minor, contract.tax_minor, added)


def sum_added(parts: Sequence[Mapping[Trigger, Part]]) -> dict[Trigger, Part]:
    """Many variations' allocations, per milestone (the contract's `added`)."""
    out: dict[Trigger, Part] = {}
    for allocation in parts:
        for trigger, part in allocation.items():
            before = out.get(trigger, NOTHING)
            out[trigger] = Part(
                before.total_minor + part.total_minor, before.tax_minor + part.tax_minor
            )
    return out

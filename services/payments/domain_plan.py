"""The payment plan: milestones per project, what each invoices and when.

A milestone is triggered by the proposal's acceptance or by the project
reaching a stage, and takes a share of the contract in basis points. Every
milestone but the last is one fixed amount, worked out once when it is
invoiced (half-up, the suite's one rule); the last is the contract minus
everything invoiced before it. So the invoices always sum to the contract
exactly, whatever the shares, and a variation (an approved change order)
lands on the milestones not yet invoiced (Odoo #125140: never round each
share on its own and hope they add up).

The tax inside the contract is split the same way, so the milestone
invoices' taxes sum to the proposal's tax to the minor unit.

Pure: the caller loads the plan and what has been invoiced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.chassis.money import BPS, share_bps
from services.chassis.validation import require_text

MAX_MILESTONES = 8
LABEL_MAX = 80


class Trigger(StrEnum):
    """What issues a milestone's invoice. Stages are projects' stage names."""

    ACCEPTANCE = "acceptance"
    PROCUREMENT = "procurement"
    INSTALL = "install"
    COMMISSIONING = "commissioning"
    HANDOVER = "handover"


# The order a project goes through them; a plan's milestones follow it.
TRIGGER_ORDER = tuple(Trigger)
STAGE_TRIGGERS = {t.value: t for t in TRIGGER_ORDER if t is not Trigger.ACCEPTANCE}


@dataclass(frozen=True)
class Milestone:
    label: str
    trigger: Trigger
    share_bps: int


@dataclass(frozen=True)
class Part:
    """An amount with the tax inside it (both negative for a credit)."""

    total_minor: int
    tax_minor: int


NOTHING = Part(0, 0)


@dataclass(frozen=True)
class Contract:
    total_minor: int  # the accepted proposal, tax included
    tax_minor: int  # the tax inside total_minor
    # What approved variations added to (or took from) each milestone still
    # to invoice when they were approved (domain_variations); a variation
    # invoiced on its own is not here.
    added: Mapping[Trigger, Part] = field(default_factory=dict)

    @property
    def billed_minor(self) -> int:
        """What the milestones bill between them: the proposal and what they took on."""
        return self.total_minor + sum(p.total_minor for p in self.added.values())

    @property
    def billed_tax_minor(self) -> int:
        return self.tax_minor + sum(p.tax_minor for p in self.added.values())


@dataclass(frozen=True)
class Invoiced:
    """A milestone already invoiced: its amounts are fixed for ever."""

    trigger: Trigger
    total_minor: int
    tax_minor: int


@dataclass(frozen=True)
class MilestoneAmount:
    trigger: Trigger
    label: str
    total_minor: int
    tax_minor: int

    @property
    def subtotal_minor(self) -> int:
        return self.total_minor - self.tax_minor


# The integrator's default until they set their own: 50 / 40 / 10.
DEFAULT_PLAN = (
    Milestone("Deposit", Trigger.ACCEPTANCE, 5_000),
    Milestone("Installation", Trigger.INSTALL, 4_000),
    Milestone("Handover", Trigger.HANDOVER, 1_000),
)


def check_plan(raw: Sequence[tuple[str, str, int]]) -> tuple[Milestone, ...]:
    """(label, trigger, share in basis points) rows, as staff typed them."""
    if not raw:
        raise InvalidArgument("a payment plan needs at least one milestone", field="milestones")
    if len(raw) > MAX_MILESTONES:
        raise InvalidArgument(
            f"a payment plan can have at most {MAX_MILESTONES} milestones", field="milestones"
        )
    milestones = []
    for i, (label, trigger, bps) in enumerate(raw):
        field = f"milestones[{i}]"
        try:
            when = Trigger(trigger)
        except ValueError:
            names = ", ".join(t.value for t in TRIGGER_ORDER)
            raise InvalidArgument(
                f"a milestone is due at one of: {names}", field=f"{field}.trigger"
            ) from None
        if not 0 < bps <= BPS:
            raise InvalidArgument(
                "each milestone's share must be more than 0 % and at most 100 %",
                field=f"{field}.share_bps",
            )
        text = require_text(label, field=f"{field}.label", max_len=LABEL_MAX)
        milestones.append(Milestone(text, when, bps))
    triggers = [m.trigger for m in milestones]
    if len(set(triggers)) != len(triggers):
        raise InvalidArgument("each stage can have one milestone only", field="milestones")
    if triggers != sorted(triggers, key=TRIGGER_ORDER.index):
        raise InvalidArgument(
            "milestones must be in the order the project reaches them", field="milestones"
        )
    if sum(m.share_bps for m in milestones) != BPS:
        shown = sum(m.share_bps for m in milestones) / 100
        raise InvalidArgument(
            f"the milestones' shares must add up to 100 % (they add up to {shown:g} %)",
            field="milestones",
        )
    return tuple(milestones)


def plan_replace(
    current: Sequence[Milestone], proposed: Sequence[Milestone], invoiced: Sequence[Invoiced]
) -> tuple[Milestone, ...]:
    """Staff edit a project's plan: a milestone already invoiced keeps its
    trigger and share (its invoice exists); the rest may change freely."""
    done = {i.trigger for i in invoiced}
    before = {m.trigger: m for m in current}
    after = {m.trigger: m for m in proposed}
    for trigger in done:
        kept = after.get(trigger)
        if kept is None or (before.get(trigger) and kept.share_bps != before[trigger].share_bps):
            raise InvalidTransition(
                f"the {trigger.value} milestone has been invoiced and cannot change",
                field="milestones",
            )
    return tuple(proposed)


def amount_for(
    plan: Sequence[Milestone], trigger: Trigger, contract: Contract, invoiced: Sequence[Invoiced]
) -> MilestoneAmount | None:
    """What the milestone for `trigger` invoices now, or None when the plan has
    no such milestone or it was invoiced already (an event arriving twice)."""
    index = next((i for i, m in enumerate(plan) if m.trigger is trigger), None)
    if index is None or any(i.trigger is trigger for i in invoiced):
        return None
    milestone = plan[index]
    done = {i.trigger for i in invoiced}
    # Later milestones still to invoice; none: this one takes the rest. (An
    # earlier one skipped at nothing, a credit having eaten it, leaves its
    # share to the rest.)
    later = [m for m in plan[index + 1 :] if m.trigger not in done]
    if later:
        # Its share of the proposal and what variations gave it; never below
        # zero (what a credit could not take here, the last one takes).
        extra = contract.added.get(trigger, NOTHING)
        total = max(0, share_bps(contract.total_minor, milestone.share_bps) + extra.total_minor)
        tax = share_bps(contract.tax_minor, milestone.share_bps) + extra.tax_minor
        if total == 0:
            return None
    else:
        # The last one still to invoice: the rest of what milestones bill, exactly.
        total = contract.billed_minor - sum(i.total_minor for i in invoiced)
        tax = contract.billed_tax_minor - sum(i.tax_minor for i in invoiced)
        if total <= 0:
            return None  # credits have eaten it; nothing more to bill
    return MilestoneAmount(trigger, milestone.label, total, max(0, min(tax, total)))


def due_on_reaching(
    plan: Sequence[Milestone], reached: Trigger, invoiced: Sequence[Invoiced]
) -> list[Trigger]:
    """The milestones to invoice, in order, when a project reaches `reached`:
    its own and any earlier one not yet invoiced (a project moved straight
    from procurement to handover owes the installation milestone too)."""
    done = {i.trigger for i in invoiced}
    limit = TRIGGER_ORDER.index(reached)
    return [
        m.trigger for m in plan if TRIGGER_ORDER.index(m.trigger) <= limit and m.trigger not in done
    ]


def projected(
    plan: Sequence[Milestone], contract: Contract, invoiced: Sequence[Invoiced]
) -> list[MilestoneAmount]:
    """Every milestone still to invoice as it will be invoiced, in plan order:
    each after the ones before it, so the last shows the rest, not all of it."""
    done = {i.trigger for i in invoiced}
    so_far = list(invoiced)
    out = []
    for m in plan:
        if m.trigger in done:
            continue
        amount = amount_for(plan, m.trigger, contract, so_far)
        out.append(amount or MilestoneAmount(m.trigger, m.label, 0, 0))
        if amount:
            so_far.append(Invoiced(m.trigger, amount.total_minor, amount.tax_minor))
    return out


def next_milestone(
    plan: Sequence[Milestone], contract: Contract, invoiced: Sequence[Invoiced]
) -> MilestoneAmount | None:
    """The next payment the client will be asked for, for the status board."""
    for milestone in plan:
        if not any(i.trigger is milestone.trigger for i in invoiced):
            return amount_for(plan, milestone.trigger, contract, invoiced)
    return None


def next_to_pay(
    plan: Sequence[Milestone],
    contract: Contract,
    invoiced: Sequence[Invoiced],
    due: Mapping[Trigger, int],
) -> MilestoneAmount | None:
    """What the client's board calls the next payment: the first milestone, in
    plan order, not yet paid. An invoiced one with money left reads as what is
    left on its invoice (`due`, by milestone; a part payment lowers it); one
    not invoiced yet as what it would invoice now. None once all are paid."""
    done = {i.trigger for i in invoiced}
    for milestone in plan:
        if milestone.trigger not in done:
            return amount_for(plan, milestone.trigger, contract, invoiced)
        left = due.get(milestone.trigger, 0)
        if left > 0:
            return MilestoneAmount(milestone.trigger, milestone.label, left, 0)
    return None

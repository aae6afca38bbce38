"""What payments' emails say: an invoice to pay, a receipt, a payment that
did not go through (to the client), a payment received (to the integrator).
Pure: amounts arrive as Money and are written by the chassis's money module,
exactly as the portal and the PDF write them (a JPY invoice has no decimals
anywhere); dates are payments' calendar dates, written by the chassis too."""

from __future__ import annotations

from portal.common.v1 import common_pb2

from services.chassis import money, timefmt
from services.notifications.domain import Message

# Payments' method names, in words a client reads.
METHOD_WORDS = {
    "card": "card",
    "us_bank_account": "bank debit (ACH)",
    "bacs_debit": "Bacs Direct Debit",
    "sepa_debit": "SEPA Direct Debit",
    "bank_transfer": "bank transfer",
    "cheque": "cheque",
    "cash": "cash",
}


def amount(value: common_pb2.Money) -> str:
    return money.format_money(value)


def method_words(method: str) -> str:
    return METHOD_WORDS.get(method, "payment")


def _about(number: str, project_name: str) -> str:
    return f"invoice {number} for {project_name}" if project_name else f"invoice {number}"


def invoice_issued(
    *,
    number: str,
    project_name: str,
    due: common_pb2.Money,
    due_on: str,
    milestone_label: str,
    link: str,
) -> Message:
    when = f" by {timefmt.format_date(due_on)}" if due_on else ""
    what = f"the {milestone_label.lower()} payment, " if milestone_label else ""
    return Message(
        subject=f"Invoice {number}: {amount(due)} due{when}",
        paragraphs=[
            f"Your {_about(number, project_name)} is ready: {what}{amount(due)} to pay{when}.",
            "You can pay it in full or in part from your portal, by card or bank payment.",
        ],
        button="View and pay the invoice",
        link=link,
    )


def receipt(
    *,
    number: str,
    project_name: str,
    paid: common_pb2.Money,
    charged: common_pb2.Money,
    method: str,
    left: common_pb2.Money,
    link: str,
) -> Message:
    lines = [
        f"Thank you: we received {amount(paid)} by {method_words(method)} for "
        f"{_about(number, project_name)}."
    ]
    if charged.amount_minor and charged.amount_minor != paid.amount_minor:
        lines.append(f"The amount taken was {amount(charged)}, the fee or discount included.")
    if left.amount_minor > 0:
        lines.append(f"{amount(left)} is left to pay on this invoice.")
    else:
        lines.append(f"Invoice {number} is now paid in full.")
    return Message(
        subject=f"Receipt: {amount(paid)} paid on invoice {number}",
        paragraphs=lines,
        button="See the invoice",
        link=link,
    )


def payment_failed(
    *, number: str, project_name: str, tried: common_pb2.Money, why: str, link: str
) -> Message:
    reason = why.strip() or "The payment was not completed."
    return Message(
        subject=f"Your payment on invoice {number} did not go through",
        paragraphs=[
            f"Your payment of {amount(tried)} on {_about(number, project_name)} did not go "
            "through, and nothing was taken.",
            f"Why: {reason}",
            "You can try again with the same or another payment method.",
        ],
        button="Try again",
        link=link,
    )


def verify_bank_account(
    *,
    number: str,
    project_name: str,
    tried: common_pb2.Money,
    last4: str,
    arrive_on: str,
    microdeposit_type: str,
    link: str,
) -> Message:
    """An ACH debit on an account typed by hand: nothing is debited until the
    client finds Stripe's small deposit and enters it on Stripe's page."""
    account = f"account ••{last4}" if last4 else "your bank account"
    when = f" by {timefmt.format_date(arrive_on)}" if arrive_on else " in 1-2 business days"
    what = (
        "the two small amounts"
        if microdeposit_type == "amounts"
        else "the 6-character code (it starts with SM) in the deposit's description"
    )
    return Message(
        subject=f"Verify your bank account to pay invoice {number}",
        paragraphs=[
            f"To debit {amount(tried)} for {_about(number, project_name)}, Stripe will send a "
            f"small deposit to {account}{when}.",
            f"When it arrives, enter {what} on Stripe's verification page. Nothing is taken "
            "from your account until you do.",
            "If you would rather pay by card, open the invoice and cancel this bank payment.",
        ],
        button="Verify your bank account",
        link=link,
    )


def payment_received(
    *,
    number: str,
    project_name: str,
    paid: common_pb2.Money,
    method: str,
    left: common_pb2.Money,
    link: str,
) -> Message:
    rest = (
        f"{amount(left)} is left to pay."
        if left.amount_minor > 0
        else f"Invoice {number} is now paid in full."
    )
    return Message(
        subject=f"Payment received: {amount(paid)} on {number}",
        paragraphs=[
            f"{amount(paid)} arrived by {method_words(method)} on {_about(number, project_name)}.",
            rest,
        ],
        button="Open the project",
        link=link,
    )

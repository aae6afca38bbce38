"""How the board page words payments' part of the board (projects' answer):
the next payment, at a stage or due on its invoice, money on its way, and
the waiting items' buttons (pay an invoice, verify a bank account)."""

from __future__ import annotations

from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as P

from gateway.api.projects import board_out
from gateway.pages.projects import board_view
from tests.gateway import project_fakes as F
from tests.gateway.test_project_pages import BOARD, browser


def usd(minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="USD", amount_minor=minor)


def board(**fields) -> P.GetStatusBoardResponse:
    return P.GetStatusBoardResponse(
        project=P.Project(id="p1", name="Cinema", stage=P.STAGE_INSTALL), **fields
    )


def test_a_milestone_not_yet_invoiced_reads_as_projects_words_without_a_link():
    view = board_view(
        board_out(
            board(
                next_payment=P.NextPayment(
                    label="Commissioning",
                    stage=P.STAGE_COMMISSIONING,
                    amount=usd(400_000),
                    when="at commissioning",  # projects' words
                )
            )
        )
    )
    assert view.next_payment == {
        "label": "Commissioning",
        "amount": "$4,000.00",
        "when": "at commissioning",
        "href": None,
        "number": "",
        "held": False,
    }


def test_an_invoiced_one_is_due_on_its_date_with_its_link_and_processing_is_said():
    view = board_view(
        board_out(
            board(
                next_payment=P.NextPayment(
                    label="Deposit",
                    amount=usd(250_000),
                    invoice_id="i1",
                    invoice_number="INV-1001",
                    due_on="2026-12-12",
                    when="due 12 Dec 2026",  # projects' words
                ),
                on_its_way=[
                    P.PaymentOnItsWay(
                        invoice_id="i2",
                        invoice_number="INV-1002",
                        amount=usd(5_000),
                        expected_by="2026-12-07",
                    )
                ],
            )
        )
    )
    assert view.next_payment is not None
    assert (view.next_payment["when"], view.next_payment["href"]) == (
        "due 12 Dec 2026",
        "/invoices/i1",
    )
    assert view.on_its_way == ("$50.00 on INV-1002 is processing, expected by 7 Dec 2026",)


def held_board(prj=None, *, plain=F.board) -> P.GetStatusBoardResponse:
    """Projects' answer while £500 of the £2,000 deposit awaits verification."""
    answer = plain(prj)
    answer.budget.accepted_proposal_id = answer.budget.accepted_proposal_id or "pr1"
    answer.budget.contract_value.CopyFrom(usd(1_000_000))
    answer.next_payment.CopyFrom(
        P.NextPayment(
            label="Deposit",
            amount=usd(200_000),
            invoice_id="i1",
            invoice_number="INV-1001",
            due_on="2026-12-12",
            held_for_verification=usd(50_000),
            when="$500.00 held for verification, $1,500.00 due 12 Dec 2026",
        )
    )
    return answer


def test_a_payment_held_for_verification_is_in_the_api_and_flagged_for_the_page():
    api = board_out(held_board())
    assert api.next_payment is not None and api.next_payment.held_for_verification is not None
    assert api.next_payment.held_for_verification.amount_minor == 50_000
    view = board_view(api)
    assert view.next_payment is not None and view.next_payment["held"] is True


async def test_the_page_says_what_verification_holds_not_that_it_is_all_due(
    settings, keypair, monkeypatch
):
    monkeypatch.setattr(F, "board", held_board)
    async with F.fake_services(keypair[1]) as fakes, browser(settings, fakes) as client:
        html = (await client.get(BOARD)).text
    line = html.index("$500.00 held for verification, $1,500.00 due 12 Dec 2026")
    assert '<span class="tag">Verify</span>' in html[line - 60 : line]
    assert "due 12 Dec 2026</span>" not in html  # not the plain "due" line


def test_no_next_payment_shows_none():
    assert board_view(board_out(board())).next_payment is None


async def test_the_page_asks_to_verify_a_bank_account_not_to_pay(settings, keypair, monkeypatch):
    """Projects' waiting item for a debit awaiting verification: its own
    button ("Verify", to the invoice), beside the ordinary "Pay"."""
    plain = F.board

    def with_payments(prj=None):
        answer = plain(prj)
        answer.waiting_on.extend(
            [
                P.WaitingItem(
                    kind="bank_account_to_verify",
                    title="Verify your bank account to pay INV-1001, $2,500.00",
                    link="/invoices/i1",
                ),
                P.WaitingItem(
                    kind="invoice_to_pay",
                    title="Invoice INV-1002, $500.00 due 12 Dec 2026",
                    link="/invoices/i2",
                ),
            ]
        )
        return answer

    monkeypatch.setattr(F, "board", with_payments)
    async with F.fake_services(keypair[1]) as fakes, browser(settings, fakes) as client:
        html = (await client.get(BOARD)).text
    verify = html.index("Verify your bank account to pay INV-1001, $2,500.00")
    pay = html.index("Invoice INV-1002, $500.00 due 12 Dec 2026")
    assert '<a class="button button-primary" href="/invoices/i1">Verify<span' in html[verify:pay]
    assert '<a class="button button-primary" href="/invoices/i2">Pay<span' in html[pay:]

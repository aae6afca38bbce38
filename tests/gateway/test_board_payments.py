"""How the board page words payments' part of the board (projects' answer):
the next payment, at a stage or due on its invoice, and money on its way."""

from __future__ import annotations

from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as P

from gateway.api.projects import board_out
from gateway.pages.projects import board_view


def usd(minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="USD", amount_minor=minor)


def board(**fields) -> P.GetStatusBoardResponse:
    return P.GetStatusBoardResponse(
        project=P.Project(id="p1", name="Cinema", stage=P.STAGE_INSTALL), **fields
    )


def test_a_milestone_not_yet_invoiced_reads_as_its_stage():
    view = board_view(
        board_out(
            board(
                next_payment=P.NextPayment(
                    label="Commissioning", stage=P.STAGE_COMMISSIONING, amount=usd(400_000)
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


def test_no_next_payment_shows_none():
    assert board_view(board_out(board())).next_payment is None

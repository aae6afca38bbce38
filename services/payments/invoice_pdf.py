"""Invoices and receipts as PDFs, in the suite's branded layout
(`services.chassis.pdf`): the integrator's letterhead, the client and the site.

Money reads as the portal shows it (`chassis.money`); dates are the tenant's
calendar (`chassis.timefmt`). No raw ids: an invoice is its number, a project
its reference and name, a payment its method, date and amount. Deterministic:
the same records and letterhead give the same bytes (the document's creation
date is its own issue or payment time): a receipt filed when the money
arrived and one downloaded later agree; an invoice downloaded later shows
the payments made since it was filed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from services.chassis.money import format_amount, format_rate
from services.chassis.pdf import BrandedDocument, Heading, Letterhead
from services.chassis.timefmt import format_date

STATUS_WORDS = {
    "draft": "Draft: not yet issued",
    "open": "Open",
    "processing": "Processing: a bank payment is on its way",
    "partially_paid": "Partially paid",
    "paid": "Paid in full",
    "void": "Void",
    "uncollectible": "Uncollectible",
}
MILESTONE_WORDS = {
    "acceptance": "on acceptance",
    "procurement": "at procurement",
    "install": "at install",
    "commissioning": "at commissioning",
    "handover": "at handover",
}


@dataclass(frozen=True)
class PaymentRow:
    """Money applied to the invoice (or on its way), as the client reads it."""

    on: date
    method: str  # in words
    amount_minor: int
    refunded_minor: int = 0
    processing: bool = False  # a bank debit not yet cleared
    expected_by: date | None = None


@dataclass(frozen=True)
class InvoiceDoc:
    number: str  # "" for a draft
    status: str  # domain_invoices.InvoiceStatus value
    currency: str
    project_reference: str
    project_name: str
    issued_on: date | None
    due_on: date | None
    created_at: datetime  # the document's own date (its issue, else its creation)
    lines: tuple[tuple[str, int, int], ...]  # description, quantity, unit price
    subtotal_minor: int
    tax_rate_bps: int
    tax_minor: int
    total_minor: int
    paid_minor: int
    due_minor: int
    processing_minor: int = 0
    overdue: bool = False
    memo: str = ""
    milestone: str = ""
    milestone_label: str = ""
    void_reason: str = ""
    payments: tuple[PaymentRow, ...] = field(default_factory=tuple)


def _money(currency: str):
    return lambda amount: format_amount(amount, currency)


def render_invoice(doc: InvoiceDoc, letterhead: Letterhead) -> bytes:
    money = _money(doc.currency)
    title = {"draft": "Draft invoice", "void": "Invoice (void)"}.get(doc.status, "Invoice")
    dates = []
    if doc.issued_on:
        dates.append(f"Issued {format_date(doc.issued_on)}")
    pdf = BrandedDocument(
        letterhead,
        Heading(
            title=title,
            reference=doc.number or "Draft",
            date_line=dates[0] if dates else "",
        ),
        created_at=doc.created_at,
    )
    pdf.paragraph(f"{doc.project_reference}  |  {doc.project_name}", size=9, muted=True)
    subtitle = [*dates]
    if doc.due_on:
        subtitle.append(f"Due {format_date(doc.due_on)}")
    if doc.milestone:  # "Deposit (on acceptance)": the plan's label, and when it fell due
        when = MILESTONE_WORDS.get(doc.milestone, doc.milestone)
        subtitle.append(f"{doc.milestone_label} ({when})" if doc.milestone_label else f"Due {when}")
    pdf.document_title(
        f"Invoice {doc.number}" if doc.number else "Draft invoice", "  |  ".join(subtitle)
    )
    state = STATUS_WORDS.get(doc.status, doc.status)
    if doc.overdue:
        state += f", overdue since {format_date(doc.due_on)}"
    if doc.status == "void" and doc.void_reason:
        state += f": {doc.void_reason}"
    pdf.paragraph(state, size=10, style="B")
    pdf.ln(2)

    rows = [(desc, str(qty), money(price), money(qty * price)) for desc, qty, price in doc.lines]
    pdf.lines_table(("Description", "Qty", "Unit price", "Amount"), rows)
    pdf.totals(
        [
            ("Subtotal", money(doc.subtotal_minor)),
            # A milestone's tax is its share of the proposal's, with no rate of its own.
            (
                f"Tax ({format_rate(doc.tax_rate_bps)})" if doc.tax_rate_bps else "Tax",
                money(doc.tax_minor),
            ),
        ],
        grand=("Total", money(doc.total_minor)),
    )

    if doc.payments:
        pdf.rule(keep_with=30)
        pdf.heading_line("Payments")
        table = []
        for p in doc.payments:
            when = format_date(p.on)
            if p.processing:
                by = f", expected by {format_date(p.expected_by)}" if p.expected_by else ""
                table.append((when, f"{p.method} (processing{by})", money(p.amount_minor)))
                continue
            table.append((when, p.method, money(p.amount_minor)))
            if p.refunded_minor:
                table.append(("", "Refunded", money(-p.refunded_minor)))
        pdf.lines_table(("Date", "Method", "Amount"), table, widths=(30, 115, 35), text_columns=2)
    # The total again only where a payments table stands between it and the sums.
    summary = [("Total", money(doc.total_minor))] if doc.payments else []
    summary.append(("Paid", money(doc.paid_minor)))
    if doc.processing_minor:
        summary.append(("Processing", money(doc.processing_minor)))
    pdf.totals(summary, grand=("Amount due", money(doc.due_minor)))
    if doc.memo:
        pdf.paragraph(doc.memo, size=9)
        pdf.ln(2)
    if doc.due_minor > 0 and doc.status not in ("void", "draft"):
        pdf.paragraph(
            "Pay online from the invoice in your portal, or contact us for bank details.",
            size=8,
            muted=True,
        )
    return pdf.render()


@dataclass(frozen=True)
class ReceiptDoc:
    invoice_number: str
    ordinal: int  # the invoice's first, second... money received
    currency: str
    project_reference: str
    project_name: str
    received_on: date
    received_at: datetime  # the document's own date
    method: str  # in words
    applied_minor: int  # credited to the invoice
    charged_minor: int  # what the client paid (fee or discount included)
    surcharge_minor: int
    discount_minor: int
    invoice_total_minor: int
    left_minor: int  # what was left to pay on the invoice after this payment
    reference: str = ""  # the bank reference of an offline payment
    refunds: tuple[tuple[date, int], ...] = ()


def receipt_reference(invoice_number: str, ordinal: int) -> str:
    return f"{invoice_number}-R{ordinal}"


def render_receipt(doc: ReceiptDoc, letterhead: Letterhead) -> bytes:
    money = _money(doc.currency)
    reference = receipt_reference(doc.invoice_number, doc.ordinal)
    pdf = BrandedDocument(
        letterhead,
        Heading(
            title="Receipt",
            reference=reference,
            date_line=f"Received {format_date(doc.received_on)}",
        ),
        created_at=doc.received_at,
    )
    pdf.paragraph(f"{doc.project_reference}  |  {doc.project_name}", size=9, muted=True)
    pdf.document_title(
        f"Receipt for invoice {doc.invoice_number}",
        f"Payment {doc.ordinal} on this invoice  |  thank you",
    )
    rows = [
        ("Amount received", money(doc.applied_minor)),
        ("Method", doc.method),
        ("Date", format_date(doc.received_on)),
        ("Applied to", f"Invoice {doc.invoice_number} ({money(doc.invoice_total_minor)})"),
    ]
    if doc.reference:
        rows.append(("Reference", doc.reference))
    if doc.surcharge_minor:
        rows.append(("Card fee", money(doc.surcharge_minor)))
    if doc.discount_minor:
        rows.append(("Bank discount", money(-doc.discount_minor)))
    if doc.charged_minor != doc.applied_minor:
        rows.append(("Charged", money(doc.charged_minor)))
    pdf.fields(rows)
    pdf.ln(4)
    totals = [("Invoice total", money(doc.invoice_total_minor))]
    # So the sums add up on the page: what earlier payments (less refunds) covered.
    before = doc.invoice_total_minor - doc.applied_minor - doc.left_minor
    if before:
        totals.append(("Paid before this payment", money(-before)))
    totals.append(("This payment", money(-doc.applied_minor)))
    pdf.totals(totals, grand=("Left to pay after this payment", money(doc.left_minor)))
    for on, amount in doc.refunds:
        pdf.paragraph(f"Refunded {money(amount)} of this payment on {format_date(on)}.", size=9)
    if doc.left_minor <= 0:
        pdf.paragraph(f"Invoice {doc.invoice_number} is paid in full.", size=10, style="B")
    return pdf.render()

"""A customer's statement as a PDF, in the suite's branded layout: per
currency, the opening balance, every invoice issued or voided and every
payment and refund in the range with the balance after it, and the closing
balance (`domain_documents.build_statement` decides the numbers).

Money as the portal shows it; dates the tenant's calendar; no raw ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from services.chassis.money import format_amount
from services.chassis.pdf import BrandedDocument, Heading, Letterhead
from services.chassis.timefmt import format_date
from services.payments.domain_documents import EntryKind, StatementSection

KIND_WORDS = {
    EntryKind.INVOICE: "Invoice {}",
    EntryKind.VOID: "Invoice {} voided",
    EntryKind.PAYMENT: "Payment on {}",
    EntryKind.REFUND: "Refund on {}",
}


def render_statement(
    sections: Sequence[StatementSection],
    *,
    start: date,
    end: date,
    letterhead: Letterhead,
) -> bytes:
    span = f"{format_date(start)} to {format_date(end)}"
    pdf = BrandedDocument(
        letterhead,
        Heading(title="Statement", reference=span, date_line=f"Balance at {format_date(end)}"),
        created_at=datetime.combine(end, time(), UTC),
    )
    pdf.document_title("Statement of account", span)
    for section in sections:

        def money(amount: int, cur: str = section.currency) -> str:
            return format_amount(amount, cur)

        if len(sections) > 1:
            pdf.heading_line(f"In {section.currency}")
        rows = [(format_date(start), "Opening balance", "", money(section.opening_minor))]
        for entry, balance in section.rows:
            details = KIND_WORDS[entry.kind].format(entry.reference)
            if entry.description:
                details += f"  |  {entry.description}"
            rows.append((format_date(entry.on), details, money(entry.signed_minor), money(balance)))
        if not section.rows:
            rows.append(("", "Nothing issued, paid or refunded in this period", "", ""))
        pdf.lines_table(
            ("Date", "Details", "Amount", "Balance"), rows, widths=(25, 90, 32, 33), text_columns=2
        )
        closing = section.closing_minor
        pdf.totals(
            [
                ("Opening balance", money(section.opening_minor)),
                ("Invoiced", money(section.invoiced_minor)),
                ("Received", money(-section.received_minor)),
            ],
            grand=("In credit" if closing < 0 else "Balance due", money(abs(closing))),
        )
    pdf.paragraph(
        "Amounts owed are positive; payments received are negative. A bank payment still "
        "on its way appears once it has cleared.",
        size=8,
        muted=True,
    )
    return pdf.render()

"""Money: integer minor units of one currency, and the one rounding rule.

Tax is computed once, on the proposal's subtotal, here and nowhere else: the
editor, the client's page, the PDF and the payment all read the amounts this
module produced, so they cannot disagree by a cent. How an amount reads is the
chassis's (`services.chassis.money`), the same in every service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.chassis.errors import InvalidArgument
from services.chassis.money import tax_on

DEFAULT_CURRENCY = "USD"


def project_currency(code: str) -> str:
    """The currency a project is priced in: ISO 4217, else the default."""
    code = code.strip().upper()
    if not code:
        return DEFAULT_CURRENCY
    if len(code) != 3 or not (code.isascii() and code.isalpha()):
        raise InvalidArgument("the currency must be an ISO 4217 code such as USD", field="currency")
    return code


MAX_QUANTITY = 10_000
MAX_UNIT_PRICE_MINOR = 10**10
MAX_TAX_RATE_BPS = 5_000  # 50 %
MAX_AMOUNT_MINOR = 10**13  # labour and discount: far above any real project
INT64_MAX = 2**63 - 1


def check_quantity(quantity: int, *, field: str = "quantity") -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidArgument(f"{field} must be between 1 and {MAX_QUANTITY}", field=field)
    return quantity


def check_unit_price(amount_minor: int, *, field: str = "unit_price_minor") -> int:
    if not 0 <= amount_minor <= MAX_UNIT_PRICE_MINOR:
        raise InvalidArgument(
            f"{field} must be between 0 and {MAX_UNIT_PRICE_MINOR} (minor units)", field=field
        )
    return amount_minor


def check_amount(amount_minor: int, *, field: str) -> int:
    """A non-negative amount entered by staff (labour, discount)."""
    if not 0 <= amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidArgument(
            f"{field} must be between 0 and {MAX_AMOUNT_MINOR} (minor units)", field=field
        )
    return amount_minor


def check_tax_rate(bps: int, *, field: str = "tax_rate_bps") -> int:
    if not 0 <= bps <= MAX_TAX_RATE_BPS:
        raise InvalidArgument(
            f"{field} must be between 0 and {MAX_TAX_RATE_BPS} basis points (0-50 %)",
            field=field,
        )
    return bps


def line_total(quantity: int, unit_price_minor: int) -> int:
    return quantity * unit_price_minor


@dataclass(frozen=True)
class Totals:
    items_minor: int  # every room's lines, hidden ones included
    labour_minor: int
    discount_minor: int
    subtotal_minor: int  # items + labour - discount
    tax_rate_bps: int
    tax_minor: int
    total_minor: int


def totals(
    *, item_totals: Iterable[int], labour_minor: int, discount_minor: int, tax_rate_bps: int
) -> Totals:
    """The proposal's arithmetic, in one place."""
    items = sum(item_totals)
    before_discount = items + labour_minor
    if discount_minor > before_discount:
        raise InvalidArgument(
            f"discount_minor ({discount_minor}) cannot exceed the subtotal before discount "
            f"({before_discount})",
            field="discount_minor",
        )
    subtotal = before_discount - discount_minor
    tax = tax_on(subtotal, tax_rate_bps)
    total = subtotal + tax
    if total > INT64_MAX:
        raise InvalidArgument("the proposal total is too large", field="total")
    return Totals(
        items_minor=items,
        labour_minor=labour_minor,
        discount_minor=discount_minor,
        subtotal_minor=subtotal,
        tax_rate_bps=tax_rate_bps,
        tax_minor=tax,
        total_minor=total,
    )


def contract_value(accepted_total_minor: int, approved_variations_minor: int) -> int:
    """The budget: the accepted proposal plus approved variations (which may be credits)."""
    return accepted_total_minor + approved_variations_minor

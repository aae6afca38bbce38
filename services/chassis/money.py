"""Money, once for the whole suite: integer minor units of an ISO 4217
currency (`portal.common.v1.Money`), as text people read, and the arithmetic
the services share. Pure: no I/O, no floats.

How an amount reads, everywhere (portal pages, the JSON API's `formatted`,
emails, PDFs): Babel's CLDR data for the locale "en" (no tenant has a locale
of its own yet), symbol first, grouped thousands, exactly the currency's
minor-unit decimals:

    USD 123456 -> "$1,234.56"     GBP 123456 -> "£1,234.56"
    EUR 123456 -> "€1,234.56"     JPY 123456 -> "¥123,456"
    CAD 500    -> "CA$5.00"       KWD 1234   -> "KWD 1.234"
    negative   -> "-£500.00"      unset      -> "—"

"$" means the US dollar because CLDR's "en" says so; the other dollars carry
their prefix (CA$, A$, NZ$). Where CLDR has no symbol the ISO code is written,
followed by a space ("CHF 5.50"), never run into the digits.

The exponent (digits after the point) is ISO 4217's minor unit, not CLDR's
display rounding: CLDR shows HUF, IDR and COP without decimals although their
amounts have two, and IQD with none although it has three. A stored amount
must never be re-scaled by a display preference, so the few exponents that are
not 2 are ISO's own short list below.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.core import get_global
from babel.numbers import (
    format_currency,
    get_currency_name,
    get_currency_symbol,
    get_territory_currencies,
)
from portal.common.v1 import common_pb2

DEFAULT_LOCALE = "en"
INT64_MAX = 2**63 - 1
UNSET = "\u2014"  # an em dash: no amount
BPS = 10_000  # basis points in a whole

# ISO 4217 minor units other than 2 (the standard's own list, current codes).
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_ISO_EXPONENTS = {
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}
_CODE = re.compile(r"^[A-Z]{3}$")


def currency_code(currency: str) -> str:
    """An ISO 4217 code, upper case; ValueError for anything else."""
    code = (currency or "").strip().upper()
    if not _CODE.match(code):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    return code


@functools.cache
def currency_codes() -> frozenset[str]:
    """The currencies in use today: every territory's legal tender in CLDR
    (Babel's data), about 150 codes; ISO 4217's funds and metals are left out."""
    today = date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today))
    return frozenset(codes)


@functools.cache
def currency_choices(locale: str = DEFAULT_LOCALE) -> tuple[tuple[str, str], ...]:
    """(code, name) of `currency_codes()`, by code: ("USD", "US Dollar"), for pickers."""
    return tuple((c, get_currency_name(c, locale=locale)) for c in sorted(currency_codes()))


def exponent(currency: str) -> int:
    """Digits after the decimal point: USD 2, JPY 0, KWD 3."""
    return _ISO_EXPONENTS.get(currency_code(currency), 2)


def to_decimal(amount_minor: int, currency: str) -> Decimal:
    """12345, "USD" -> Decimal("123.45"): exact, for formatting and export."""
    return Decimal(int(amount_minor)).scaleb(-exponent(currency))


@functools.lru_cache(maxsize=256)
def _pattern(code: str, places: int, locale: str) -> str:
    symbol = get_currency_symbol(code, locale=locale)
    gap = " " if symbol[-1:].isalpha() else ""  # "CHF 5.50", but "$5.50" and "CA$5.00"
    return f"\u00a4{gap}#,##0" + (f".{'0' * places}" if places else "")


# Pure, and babel's formatting (locale and pattern parsing) was a few per cent
# of the gateway's CPU for a board page: amounts repeat, so remember them.
@functools.lru_cache(maxsize=4096)
def format_amount(amount_minor: int, currency: str, *, locale: str = DEFAULT_LOCALE) -> str:
    """Minor units of a currency as people read them: 123456, "GBP" -> "£1,234.56"."""
    code = currency_code(currency)
    places = exponent(code)
    return format_currency(
        to_decimal(amount_minor, code),
        code,
        format=_pattern(code, places, locale),
        locale=locale,
        currency_digits=False,
    )


def format_money(money: common_pb2.Money | None, *, locale: str = DEFAULT_LOCALE) -> str:
    """A `Money` message as text; an unset one (no currency) as an em dash."""
    if money is None or not money.currency:
        return UNSET
    return format_amount(money.amount_minor, money.currency, locale=locale)


def money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(currency=currency_code(currency), amount_minor=int(amount_minor))


# -- arithmetic -------------------------------------------------------------------------


def _checked(total: int) -> int:
    if not -INT64_MAX - 1 <= total <= INT64_MAX:
        raise OverflowError("the amount does not fit in 64 bits")
    return total


def total(amounts: Iterable[common_pb2.Money], *, currency: str) -> common_pb2.Money:
    """The sum of amounts of one currency; ValueError if any is in another."""
    code = currency_code(currency)
    running = 0
    for item in amounts:
        if currency_code(item.currency) != code:
            raise ValueError(f"cannot add {item.currency} to {code}")
        running += item.amount_minor
    return money(_checked(running), code)


def subtract(a: common_pb2.Money, b: common_pb2.Money) -> common_pb2.Money:
    """a - b, of one currency."""
    code = currency_code(a.currency)
    if currency_code(b.currency) != code:
        raise ValueError(f"cannot subtract {b.currency} from {code}")
    return money(_checked(a.amount_minor - b.amount_minor), code)


def parse_amount(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """What a person typed ("1,234.50", "£1234.5", "12", "1 234") -> minor units.

    ValueError with a sentence for the form when it is not an amount, is
    negative where that is not allowed, has more decimals than the currency
    has, or does not fit in 64 bits. Empty means zero."""
    code = currency_code(currency)
    cleaned = text.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    cleaned = cleaned.removesuffix(code).removeprefix(code)
    sign = ""
    if cleaned[:1] in "-+" and cleaned:
        sign, cleaned = cleaned[0], cleaned[1:]
    cleaned = cleaned.removeprefix(get_currency_symbol(code, locale=DEFAULT_LOCALE))
    if not cleaned:
        return 0
    try:
        value = Decimal(sign + cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount like 1,234.56.") from None
    if not value.is_finite():
        raise ValueError("Enter an amount like 1,234.56.")
    if value < 0 and not allow_negative:
        raise ValueError("Enter an amount of zero or more.")
    places = exponent(code)
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"Use at most {places} decimal places.")
    if abs(minor) > INT64_MAX:
        raise ValueError("That amount is too large.")
    return int(minor)


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero:
    the suite's one rounding rule. Integer arithmetic: no float sees an amount."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def tax_on(subtotal_minor: int, tax_rate_bps: int) -> int:
    """Tax of a whole subtotal (never per line), rounded half-up to the minor
    unit: proposals, invoices, their PDFs and the pay page all use this."""
    return round_half_up(subtotal_minor * tax_rate_bps, BPS)


def share_bps(total_minor: int, bps: int) -> int:
    """One percentage share of a total, half-up (a deposit of 50 %)."""
    return round_half_up(total_minor * bps, BPS)


def allocate(total_minor: int, weights: Sequence[int]) -> list[int]:
    """Split a total into shares in proportion to weights (percentages,
    basis points, or amounts), losing and inventing no minor unit.

    Largest remainder: each share is first rounded down; the minor units left
    over go one each to the shares with the largest remainders (ties: the
    earlier share). So the shares always sum to the total, and no share is
    more than one minor unit from its exact value. A negative total (a
    credit) is split the same way, signs mirrored."""
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be zero or more")
    whole = sum(weights)
    if whole == 0:
        raise ValueError("the weights sum to zero")
    sign, amount = (-1, -total_minor) if total_minor < 0 else (1, total_minor)
    floors = [amount * w // whole for w in weights]
    remainders = [amount * w % whole for w in weights]
    left = amount - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * share for share in floors]


def allocate_percent_bps(total_minor: int, shares_bps: Sequence[int]) -> list[int]:
    """Shares given in basis points that make a whole (e.g. 30 % / 70 % deposit
    and balance: [3000, 7000]); see `allocate`."""
    if sum(shares_bps) != BPS:
        raise ValueError("the shares must add up to 100 %")
    return allocate(total_minor, shares_bps)


# -- percentages (tax rates) as typed and shown ----------------------------------------


def parse_percent_bps(text: str) -> int:
    """A rate typed as "8.25" or "8.25 %" -> basis points (825)."""
    cleaned = text.strip().removesuffix("%").strip()
    if not cleaned:
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter a rate like 8.25.") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError("Enter a rate between 0 and 100.")
    bps = value * 100
    if bps != bps.to_integral_value():
        raise ValueError("Use at most two decimal places.")
    return int(bps)


def format_percent_bps(bps: int) -> str:
    """The number alone, for a form field: 825 -> "8.25", 800 -> "8", 850 -> "8.5"."""
    text = f"{Decimal(bps) / 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_rate(bps: int) -> str:
    """A rate as every page, email and PDF shows it: 825 -> "8.25 %"."""
    return f"{format_percent_bps(bps)} %"

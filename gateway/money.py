"""Money for people: `Money` (integer minor units + ISO 4217 code) as text, and
text typed into a console form back to minor units. Display only: amounts are
computed by the services, never here."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from portal.common.v1 import common_pb2

# The symbols our integrators' clients read; any other currency is written
# "1,234.56 CHF" rather than guessed at.
SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "AUD": "A$"}
# ISO 4217 minor units other than 2.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENTS = {code: 0 for code in _ZERO.split()} | {code: 3 for code in _THREE.split()}


def exponent(currency: str) -> int:
    """Digits after the decimal point: 2 for USD, 0 for JPY, 3 for KWD."""
    return _EXPONENTS.get(currency.upper(), 2)


def format_amount(amount_minor: int, currency: str) -> str:
    """12345678, "USD" -> "$123,456.78"; -50000, "GBP" -> "-£500.00";
    123456, "CHF" -> "1,234.56 CHF"."""
    code = (currency or "").upper()
    places = exponent(code)
    major, minor = divmod(abs(int(amount_minor)), 10**places)
    digits = f"{major:,}" + (f".{minor:0{places}d}" if places else "")
    sign = "-" if amount_minor < 0 else ""
    symbol = SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}".rstrip()


def format_money(money: common_pb2.Money | None) -> str:
    """A Money message as text; an unset one as an em dash."""
    if money is None or not money.currency:
        return "—"
    return format_amount(money.amount_minor, money.currency)


def parse_amount(text: str, currency: str) -> int:
    """What a person typed ("1,234.50", "$1234.5", "12") -> minor units.

    Raises ValueError with a sentence for the form when it is not an amount,
    is negative, or has more decimals than the currency has."""
    code = currency.upper()
    cleaned = text.strip().replace(",", "").replace(" ", "")
    symbol = SYMBOLS.get(code)
    if symbol and cleaned.startswith(symbol):
        cleaned = cleaned[len(symbol) :]
    cleaned = cleaned.removesuffix(code)
    if not cleaned:
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount like 1,234.56.") from None
    if not value.is_finite() or value < 0:
        raise ValueError("Enter an amount of zero or more.")
    places = exponent(code)
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"Use at most {places} decimal places.")
    if minor > 10**15:
        raise ValueError("That amount is too large.")
    return int(minor)


def parse_percent_bps(text: str) -> int:
    """A tax rate typed as "8.25" or "8.25 %" -> basis points (825)."""
    cleaned = text.strip().removesuffix("%").strip()
    if not cleaned:
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter a rate like 8.25.") from None
    bps = value * 100
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError("Enter a rate between 0 and 100.")
    if bps != bps.to_integral_value():
        raise ValueError("Use at most two decimal places.")
    return int(bps)


def format_percent_bps(bps: int) -> str:
    """825 -> "8.25", 800 -> "8", 850 -> "8.5"."""
    text = f"{Decimal(bps) / 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

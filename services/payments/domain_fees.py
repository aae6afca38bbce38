"""Card fee pass-through and the bank-debit discount: off by default, and
only where the law and the card brands allow it.

A surcharge applies to credit cards only (never debit or prepaid), is at
most the brands' cap (Visa 3 %, the lowest of the major brands, so one rule
holds whatever card is used), is shown to the client before they pay, and is
refused outright where consumer surcharges are banned: the UK (2018) and
the EEA (PSD2), and the US states that ban them. The lawful alternative
everywhere is a discount for paying by bank debit (ACH, Bacs).

The tenant's region (ISO 3166 country, and subdivision for the US) decides.
Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.chassis.errors import InvalidArgument
from services.chassis.money import share_bps
from services.payments.domain_payments import Method

CARD_SURCHARGE_CAP_BPS = 300  # Visa's cap, the lowest of the major brands
STATE_CAPS_BPS = {"US-CO": 200}  # Colorado: 2 %
BANK_DISCOUNT_CAP_BPS = 1_000
EEA = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU"),
        *("IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES"),
        *("SE", "IS", "LI", "NO"),
    }
)
SURCHARGE_BANNED_REGIONS = frozenset({"GB", *EEA, "US-CT", "US-MA"})
BANK_METHODS = frozenset({Method.US_BANK_ACCOUNT, Method.BACS_DEBIT})


@dataclass(frozen=True)
class FeePolicy:
    card_surcharge_bps: int = 0
    bank_discount_bps: int = 0


@dataclass(frozen=True)
class Charge:
    """What one payment of `applied_minor` off the invoice costs the client."""

    applied_minor: int  # what the invoice is credited
    surcharge_minor: int = 0  # added on top (credit cards only)
    discount_minor: int = 0  # taken off (bank debits)

    @property
    def charged_minor(self) -> int:
        return self.applied_minor + self.surcharge_minor - self.discount_minor


def surcharge_cap(region: str) -> int:
    """The highest surcharge allowed in a region; 0 where it is banned."""
    code = region.strip().upper()
    country = code.split("-")[0]
    if code in SURCHARGE_BANNED_REGIONS or country in SURCHARGE_BANNED_REGIONS:
        return 0
    return min(CARD_SURCHARGE_CAP_BPS, STATE_CAPS_BPS.get(code, CARD_SURCHARGE_CAP_BPS))


def check_fee_policy(policy: FeePolicy, *, region: str) -> FeePolicy:
    """Staff set the policy; refuse what the region or the brands forbid."""
    cap = surcharge_cap(region)
    if policy.card_surcharge_bps and cap == 0:
        raise InvalidArgument(
            "card surcharges are not allowed for consumer payments in your region; "
            "offer a bank payment discount instead",
            field="card_surcharge_bps",
        )
    if not 0 <= policy.card_surcharge_bps <= cap:
        raise InvalidArgument(
            f"a card surcharge can be at most {cap / 100:g} % in your region",
            field="card_surcharge_bps",
        )
    if not 0 <= policy.bank_discount_bps <= BANK_DISCOUNT_CAP_BPS:
        raise InvalidArgument(
            f"a bank payment discount can be at most {BANK_DISCOUNT_CAP_BPS / 100:g} %",
            field="bank_discount_bps",
        )
    return policy


def charge_for(
    applied_minor: int, method: Method, *, card_funding: str, policy: FeePolicy, region: str
) -> Charge:
    """The surcharge or discount on one payment. `card_funding` is Stripe's
    `card.funding` (credit, debit, prepaid, unknown); only "credit" pays a fee.
    The region is checked again here: a policy saved before a law changed
    must not charge."""
    if method is Method.CARD and card_funding == "credit":
        bps = min(policy.card_surcharge_bps, surcharge_cap(region))
        return Charge(applied_minor, surcharge_minor=share_bps(applied_minor, bps))
    if method in BANK_METHODS and policy.bank_discount_bps:
        discount = share_bps(applied_minor, policy.bank_discount_bps)
        return Charge(applied_minor, discount_minor=min(discount, applied_minor - 1))
    return Charge(applied_minor)

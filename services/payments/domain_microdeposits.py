"""ACH micro-deposit verification as Stripe documents it, and so what a client
reads when it ends without a debit. Pure.

What Stripe says (checked, not remembered):

- support.stripe.com/questions/verify-a-new-ach-direct-debit-customer-using-micro-deposits:
  an account that is not verified instantly gets either two small deposits
  whose statement descriptor reads "ACCTVERIFY" (`microdeposit_type`
  `amounts`) or one deposit with a unique 6-character code at the start of
  its description (`descriptor_code`, PaymentIntents only); they take 1-2
  business days to appear; the customer has **3 attempts** for amounts and
  **10 attempts** for a descriptor code; once the attempts are used up only
  Stripe support can help (the merchant contacts them), so the client's way
  forward is another method.
- docs.stripe.com/api/payment_intents/verify_microdeposits: `descriptor_code`
  is "a six-character code starting with SM"; `amounts` are two positive
  integers in cents.
- Stripe's API error codes (its OpenAPI spec's `code` enum) for this step:
  `payment_method_microdeposit_failed`, `..._processing_error`,
  `..._verification_amounts_invalid`, `..._verification_amounts_mismatch`,
  `..._verification_attempts_exceeded`, `..._verification_descriptor_code_mismatch`,
  `..._verification_timeout`. A mismatch is the answer to one wrong try (the
  intent still waits while tries are left); the intent goes back to
  `requires_payment_method`, i.e. our `payment_failed`, when the deposits
  could not be sent, the tries ran out or the time did.

How long the client has is not on either page (an earlier draft said 10
days from memory), so the words say "in time" and name no number.
"""

from __future__ import annotations

from typing import Final

AMOUNTS_ATTEMPTS: Final = 3
DESCRIPTOR_CODE_ATTEMPTS: Final = 10
AMOUNTS_DESCRIPTOR: Final = "ACCTVERIFY"  # the two deposits' statement descriptor
CODE_PREFIX: Final = "SM"  # every descriptor code starts so

# Stripe's `last_payment_error.code` -> what the client reads: what happened
# and their next step. Each surface adds "nothing was taken" itself (the
# payment page, the failure email), so the words do not say it twice.
FAILURE_WORDS: Final[dict[str, str]] = {
    "payment_method_microdeposit_verification_timeout": "Your bank account wasn't "
    "verified in time. Pay by card, or pay by bank again to get a new deposit.",
    "payment_method_microdeposit_verification_attempts_exceeded": "Your bank account "
    "couldn't be verified: the deposit was entered wrongly too many times "
    f"({AMOUNTS_ATTEMPTS} tries for two amounts, {DESCRIPTOR_CODE_ATTEMPTS} for a code). "
    "Pay by card or from another account.",
    "payment_method_microdeposit_verification_amounts_mismatch": "The amounts entered "
    f"didn't match the two small deposits marked {AMOUNTS_DESCRIPTOR}. Pay by card, "
    "or pay by bank again.",
    "payment_method_microdeposit_verification_descriptor_code_mismatch": "The code "
    f"entered didn't match the one on the deposit (6 characters starting {CODE_PREFIX}, "
    "at the start of its description). Pay by card, or pay by bank again.",
    "payment_method_microdeposit_verification_amounts_invalid": "The deposit amounts "
    "weren't entered as two amounts in cents. Pay by card, or pay by bank again.",
    "payment_method_microdeposit_failed": "The small deposit couldn't be sent to this "
    "account (usually a wrong routing or account number, or a closed account). "
    "Check the details and pay by bank again, or pay by card.",
    "payment_method_microdeposit_processing_error": "The small deposit couldn't be "
    "sent just now. Pay by bank again later, or pay by card.",
}


def attempts_allowed(microdeposit_type: str) -> int:
    """How many tries Stripe gives the client to enter what the deposit shows
    (0: a type Stripe did not name, so no number is promised)."""
    return {"amounts": AMOUNTS_ATTEMPTS, "descriptor_code": DESCRIPTOR_CODE_ATTEMPTS}.get(
        microdeposit_type, 0
    )

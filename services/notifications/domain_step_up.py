"""The step-up code email: what a client types to confirm it is them before
they sign a change order. Pure."""

from __future__ import annotations

from datetime import datetime

from services.notifications.domain import Brand, Message, local_time


def step_up_code(*, brand: Brand, code: str, expires_at: datetime) -> Message:
    """The code a client types to confirm it is them before they sign."""
    return Message(
        subject=f"{code} is your code to confirm it's you",
        paragraphs=[f"Enter this code in the {brand.name} portal to confirm it's you:", code],
        after=[
            f"It works once and expires {local_time(expires_at, brand.time_zone)}.",
            "If you did not ask for it, someone may be using your session: sign out everywhere "
            "from your account page.",
        ],
    )

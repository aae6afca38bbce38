"""Projects keeps each tenant's time zone for a minute rather than asking
identity on every stage move; each tenant's apart."""

from __future__ import annotations

from services.chassis.identity_cache import IdentityCache


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def asker(answers: dict[str, str], asked: list[str]):
    def load_for(tenant: str):
        async def load() -> str:
            asked.append(tenant)
            return answers[tenant]

        return load

    return load_for


async def test_a_zone_is_asked_once_a_minute_per_tenant():
    clock, asked = Clock(), []
    answers = {"t1": "America/Los_Angeles", "t2": "Pacific/Auckland"}
    load = asker(answers, asked)
    zones = IdentityCache(seconds=60, clock=clock)
    assert await zones.get(("t1", "tenant", "time_zone"), load("t1")) == "America/Los_Angeles"
    assert await zones.get(("t2", "tenant", "time_zone"), load("t2")) == "Pacific/Auckland"
    clock.now += 59
    assert await zones.get(("t1", "tenant", "time_zone"), load("t1")) == "America/Los_Angeles"
    assert asked == ["t1", "t2"]
    # A minute on, a zone staff changed in identity is asked for again.
    answers["t1"] = "America/New_York"
    clock.now += 1
    assert await zones.get(("t1", "tenant", "time_zone"), load("t1")) == "America/New_York"
    assert asked == ["t1", "t2", "t1"]

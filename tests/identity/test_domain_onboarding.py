"""Onboarding rules: the slug is one safe DNS label, defaults fill what the
operator left out, and a taken slug is a retry only for its own owner."""

import pytest

from services.chassis.errors import AlreadyExists, InvalidArgument
from services.identity import domain_onboarding as onboarding


def plan(**kw):
    fields = {
        "slug": "brightwave",
        "display_name": "Brightwave AV",
        "owner_email": "sam@bw.example",
    }
    return onboarding.plan_onboarding(**(fields | kw))


def test_defaults_fill_what_the_operator_left_out():
    p = plan(owner_email=" Sam.Okafor@BW.Example ")
    assert p.slug == "brightwave" and p.display_name == "Brightwave AV"
    assert p.owner_email == "Sam.Okafor@bw.example"
    assert p.owner_name == "Sam Okafor"
    assert (p.time_zone, p.currency, p.region) == ("UTC", "USD", "")


def test_given_zone_currency_and_name_are_checked_and_kept():
    p = plan(time_zone="Europe/London", currency="gbp", region="gb", owner_name=" Sam O ")
    assert (p.time_zone, p.currency, p.region, p.owner_name) == (
        "Europe/London",
        "GBP",
        "GB",
        "Sam O",
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"slug": "Bright_Wave"}, "slug"),
        ({"slug": "xn--bcher-kva"}, "slug"),  # punycode: "--" is refused
        ({"slug": "platform"}, "slug"),
        ({"slug": "www"}, "slug"),
        ({"display_name": "  "}, "display_name"),
        ({"owner_email": "sam"}, "owner_email"),
        ({"time_zone": "London"}, "time_zone"),
        ({"currency": "pounds"}, "currency"),
        ({"region": "Great Britain"}, "region"),
    ],
)
def test_each_refusal_names_its_field(kw, field):
    with pytest.raises(InvalidArgument) as err:
        plan(**kw)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("olivia.grant@acme.example", "Olivia Grant"),
        ("olivia_grant+av@acme.example", "Olivia Grant"),
        ("j-p.smith@acme.example", "J P Smith"),
        ("ops@acme.example", "Ops"),
        ("...@acme.example", "..."),
    ],
)
def test_a_greeting_name_comes_from_the_address(email, name):
    assert onboarding.name_from_email(email) == name


def test_a_taken_slug_is_a_retry_for_its_own_owner_only():
    # The same owner (any case): answered with the existing tenant.
    onboarding.check_retry(
        slug="acme",
        owner_email="olivia@acme.example",
        owner_emails=["Olivia@ACME.example"],
        purged=False,
    )
    with pytest.raises(AlreadyExists, match="taken") as err:
        onboarding.check_retry(
            slug="acme",
            owner_email="mallory@evil.example",
            owner_emails=["olivia@acme.example"],
            purged=False,
        )
    assert err.value.field == "slug" and "olivia" not in str(err.value)
    with pytest.raises(AlreadyExists):  # a purged integrator's slug is never handed out
        onboarding.check_retry(
            slug="acme",
            owner_email="olivia@acme.example",
            owner_emails=["olivia@acme.example"],
            purged=True,
        )

"""Tenant branding checks: what every page of a portal shows must be safe."""

import pytest

from services.chassis.errors import InvalidArgument
from services.identity import domain


@pytest.mark.parametrize("url", ["https://cdn.example.com/logo.png", "/static/logo.svg", ""])
def test_https_and_relative_paths_are_accepted(url):
    assert domain.validate_branding_url(url, field="logo_url") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/logo.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "//evil.example/logo.png",
        "https://",
        "https://cdn.example.com/a b.png",
        "logo.png",
        "https://x.example/" + "a" * 500,
    ],
)
def test_other_urls_are_refused_with_the_field_named(url):
    with pytest.raises(InvalidArgument, match="https://") as err:
        domain.validate_branding_url(url, field="logo_url")
    assert err.value.field == "logo_url"


def test_phone_headline_and_region():
    assert domain.validate_support_phone(" +1 (555) 013-4 ") == "+1 (555) 013-4"
    with pytest.raises(InvalidArgument):
        domain.validate_support_phone("<script>")
    with pytest.raises(InvalidArgument):
        domain.validate_headline("x" * 301)
    assert domain.validate_region("gb") == "GB" and domain.validate_region("") == ""
    with pytest.raises(InvalidArgument):
        domain.validate_region("Great Britain")


def test_a_currency_must_be_one_in_use_today():
    assert domain.validate_currency("EUR") == "EUR"
    for bad in ("DEM", "XAU", "ABC"):
        with pytest.raises(InvalidArgument, match="not a currency in use") as err:
            domain.validate_currency(bad)
        assert err.value.field == "currency"

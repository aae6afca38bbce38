import pytest

from services.chassis.errors import InvalidArgument
from services.identity import domain


@pytest.mark.parametrize("slug", ["acme", "acme-av", "a1b", "x" * 40])
def test_valid_slugs(slug):
    assert domain.validate_slug(slug.upper()) == slug


@pytest.mark.parametrize("slug", ["ab", "-acme", "acme-", "ac--me", "acme.av", "x" * 41, "a_b", ""])
def test_invalid_slugs(slug):
    with pytest.raises(InvalidArgument) as err:
        domain.validate_slug(slug)
    assert err.value.field == "slug"


@pytest.mark.parametrize("slug", ["www", "api", "admin", "mail", "platform", "console"])
def test_reserved_slugs_are_refused(slug):
    with pytest.raises(InvalidArgument, match="reserved"):
        domain.validate_slug(slug)


def test_email_domain_is_lowercased_local_part_kept():
    assert domain.normalize_email(" Jane.Doe@Example.COM ") == "Jane.Doe@example.com"
    with pytest.raises(InvalidArgument):
        domain.normalize_email("not-an-email")


def test_branding_fields_are_checked():
    assert domain.validate_accent_color("#B4442B") == "#b4442b"
    with pytest.raises(InvalidArgument):
        domain.validate_accent_color("red")
    assert domain.validate_time_zone("Europe/London") == "Europe/London"
    with pytest.raises(InvalidArgument, match="IANA"):
        domain.validate_time_zone("Mars/Olympus")
    with pytest.raises(InvalidArgument):
        domain.validate_currency("usd")


def test_roles_must_be_known_and_present():
    assert domain.validate_roles(["admin", "owner", "admin"], domain.STAFF_ROLES) == [
        "admin",
        "owner",
    ]
    with pytest.raises(InvalidArgument):
        domain.validate_roles([], domain.STAFF_ROLES)
    with pytest.raises(InvalidArgument):
        domain.validate_roles(["king"], domain.STAFF_ROLES)


def test_api_tokens_are_random_and_only_their_hash_is_kept():
    secret, digest, prefix = domain.new_api_token()
    other, _, _ = domain.new_api_token()
    assert secret != other and secret.startswith("pat_") and len(secret) > 40
    assert digest == domain.hash_api_token(secret) and secret not in digest
    assert secret.startswith(prefix)

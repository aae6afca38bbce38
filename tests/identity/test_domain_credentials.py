"""Password policy, one-time secrets, TOTP (RFC 6238) and recovery codes."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from services.chassis.errors import InvalidArgument
from services.identity import domain_credentials as cred

EMAIL = "jane.harrison@example.com"
NOW = datetime(2025, 6, 1, 12, 0, 10, tzinfo=UTC)
SECRET = cred.totp_secret_from_bytes(bytes(range(20)))


@pytest.mark.parametrize("password", ["abcdefghi", "short", ""])
def test_passwords_shorter_than_ten_characters_are_refused(password):
    with pytest.raises(InvalidArgument, match="at least 10 characters") as err:
        cred.check_password_policy(password, email=EMAIL)
    assert err.value.field == "new_password"


def test_the_length_bounds_are_inclusive():
    assert cred.check_password_policy("abcdefghij", email=EMAIL) == "abcdefghij"
    assert cred.check_password_policy("x" * 127 + "y", email=EMAIL)
    with pytest.raises(InvalidArgument, match="at most 128"):
        cred.check_password_policy("x" * 128 + "y", email=EMAIL)


def test_the_email_address_is_not_a_password_whatever_its_case():
    with pytest.raises(InvalidArgument, match="cannot be your email"):
        cred.check_password_policy("Jane.Harrison@Example.com", email=EMAIL)


def test_one_character_repeated_is_refused():
    with pytest.raises(InvalidArgument, match="one character repeated"):
        cred.check_password_policy("zzzzzzzzzzzzzz", email=EMAIL)


def test_a_long_passphrase_without_composition_rules_is_fine():
    assert cred.check_password_policy("correct horse battery staple", email=EMAIL)


def test_tokens_carry_256_bits_and_only_a_sha256_is_stored():
    token = cred.token_from_bytes(b"\x01" * 32)
    assert len(token) == 43 and "=" not in token
    assert cred.hash_secret(token) == cred.hash_secret(token)
    assert len(cred.hash_secret(token)) == 64 and token not in cred.hash_secret(token)
    with pytest.raises(ValueError):
        cred.token_from_bytes(b"\x01" * 8)


def test_totp_matches_pyotp_and_accepts_one_step_either_side():
    step = cred.totp_step(NOW)
    reference = pyotp.TOTP(SECRET)
    assert cred.totp_code(SECRET, step) == reference.at(NOW)
    for offset in (-1, 0, 1):
        code = reference.at(NOW + timedelta(seconds=30 * offset))
        assert cred.verify_totp(SECRET, code, now=NOW) == step + offset


@pytest.mark.parametrize("offset", [-2, 2, 10])
def test_totp_codes_outside_the_window_are_refused(offset):
    code = pyotp.TOTP(SECRET).at(NOW + timedelta(seconds=30 * offset))
    assert cred.verify_totp(SECRET, code, now=NOW) is None


def test_a_totp_code_cannot_be_replayed_within_its_window():
    code = pyotp.TOTP(SECRET).at(NOW)
    step = cred.verify_totp(SECRET, code, now=NOW)
    assert step is not None
    assert cred.verify_totp(SECRET, code, now=NOW, last_used_step=step) is None
    later = pyotp.TOTP(SECRET).at(NOW + timedelta(seconds=30))
    assert cred.verify_totp(SECRET, later, now=NOW, last_used_step=step) == step + 1


def test_totp_codes_may_be_typed_with_spaces_and_junk_is_refused():
    code = pyotp.TOTP(SECRET).at(NOW)
    assert cred.verify_totp(SECRET, f"{code[:3]} {code[3:]}", now=NOW) is not None
    for junk in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert cred.verify_totp(SECRET, junk, now=NOW) is None


def test_totp_secret_and_uri_for_an_authenticator_app():
    assert len(SECRET) == 32
    uri = cred.totp_uri(SECRET, account="olivia@acme.example", issuer="Acme AV & Co")
    assert uri.startswith("otpauth://totp/Acme%20AV%20%26%20Co:olivia@acme.example?")
    assert f"secret={SECRET}" in uri and "period=30" in uri and "digits=6" in uri
    assert pyotp.parse_uri(uri).secret == SECRET


def test_recovery_codes_are_80_bits_and_match_however_they_are_typed():
    code = cred.recovery_code_from_bytes(b"\xab" * 10)
    assert len(code) == 19 and code.count("-") == 3
    assert cred.hash_recovery_code(code) == cred.hash_recovery_code(code.upper().replace("-", " "))
    assert not cred.looks_like_totp_code(code)
    with pytest.raises(ValueError):
        cred.recovery_code_from_bytes(b"\x00" * 5)

"""How mail leaves, as pure rules: clean header and body text, addresses,
which failures are retried and when, what keeps its order."""

from __future__ import annotations

import aiosmtplib
import pytest

from services.notifications import domain_delivery as delivery
from services.notifications.domain_delivery import FailureKind, RetryPolicy
from services.notifications.smtp_gateway import failure_of


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("A\r\nBcc: x@evil", "A Bcc: x@evil"),
        ("Den\x00\x1b[31m", "Den[31m"),
        ("tab\there", "tab here"),
        ("line\u2028sep\u2029par\x85nel", "line sep par nel"),
        ("  spaced   out  ", "spaced out"),
        ("Café ünïcode", "Café ünïcode"),
    ],
)
def test_header_text_has_no_control_character_and_one_line(raw, clean):
    assert delivery.header_text(raw, 300) == clean


def test_header_text_is_cut_to_its_column():
    assert delivery.header_text("x" * 500, delivery.SUBJECT_MAX) == "x" * 300


def test_body_text_keeps_lines_and_drops_other_controls():
    assert delivery.body_text("a\r\nb\rc\x00d\te\x07") == "a\nb\ncd\te"


@pytest.mark.parametrize(
    "address",
    ["", "jx.com", "a b@x.com", "a@", "@x", "j@x.com, evil@y", "j@x.com\r\nBcc: e@y", "<j@x.com>"],
)
def test_an_address_no_server_takes_is_named_as_such(address):
    assert delivery.address_problem(address)


def test_a_plain_address_is_fine():
    assert delivery.address_problem("jane.harrison@example.com") == ""


def test_transient_failures_back_off_then_give_up():
    policy = RetryPolicy(delays=(5, 30, 120), max_attempts=8)
    delays = [policy.after_failure(n, FailureKind.TRANSIENT) for n in range(1, 5)]
    # Out of delays before out of attempts.
    assert delays == [5, 30, 120, None]
    assert RetryPolicy(max_attempts=2).after_failure(2, FailureKind.TRANSIENT) is None


def test_permanent_failures_get_fewer_attempts():
    policy = RetryPolicy(max_attempts=8, max_permanent_attempts=3)
    assert policy.after_failure(2, FailureKind.PERMANENT) == 30
    assert policy.after_failure(3, FailureKind.PERMANENT) is None
    assert policy.after_failure(3, FailureKind.TRANSIENT) == 120


def test_smtp_5xx_is_permanent_only_when_it_is_about_the_message():
    refused = aiosmtplib.SMTPRecipientRefused(550, "no such user", "j@x.com")
    assert failure_of(aiosmtplib.SMTPRecipientsRefused([refused])).kind is FailureKind.PERMANENT
    assert failure_of(aiosmtplib.SMTPDataError(554, "spam")).kind is FailureKind.PERMANENT
    assert failure_of(aiosmtplib.SMTPDataError(451, "later")).kind is FailureKind.TRANSIENT
    # A refused login or sender is our configuration: every message would fail.
    login = aiosmtplib.SMTPAuthenticationError(535, "bad credentials")
    assert failure_of(login).kind is FailureKind.TRANSIENT
    sender = aiosmtplib.SMTPSenderRefused(553, "not yours", "portal@x")
    assert failure_of(sender).kind is FailureKind.TRANSIENT
    assert failure_of(ConnectionRefusedError(111, "refused")).kind is FailureKind.TRANSIENT
    assert "550" in failure_of(aiosmtplib.SMTPRecipientsRefused([refused])).reason


def test_mail_about_a_project_is_one_sequence_whatever_the_event():
    stage = delivery.ordering_key("project", "p1")
    proposal = delivery.ordering_key("proposal", "pr9", "p1")
    assert stage == proposal == "project:p1"
    assert delivery.ordering_key("contact", "c1") == "contact:c1"

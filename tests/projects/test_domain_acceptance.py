"""Accepting: the version must be the one in front of the client, as they saw
it, with consent and a typed name; the evidence is cleaned for keeping."""

import pytest

from services.chassis.errors import InvalidArgument, InvalidTransition
from services.projects import domain_acceptance
from services.projects.domain_acceptance import (
    Acceptance,
    AcceptancePlan,
    EarlierUse,
    check_acceptance,
    plan_acceptance,
)
from services.projects.domain_proposals import ProposalStatus

HASH = "ab" * 32


def accept(**kw) -> Acceptance:
    values = {
        "status": ProposalStatus.SENT,
        "version": 2,
        "stored_sha256": HASH,
        "given_sha256": HASH,
        "consent": True,
        "signer_name": "  Jane   Harrison ",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0\x00",
    }
    values.update(kw)
    return check_acceptance(**values)


def test_acceptance_cleans_the_evidence():
    acceptance = accept()
    assert acceptance == Acceptance("Jane Harrison", "203.0.113.7", "Mozilla/5.0")
    assert accept(given_sha256=HASH.upper()).signer_name == "Jane Harrison"
    assert accept(ip="2001:db8::1").ip == "2001:db8::1"


def test_accepting_a_superseded_version_says_review_the_newer_one():
    with pytest.raises(InvalidTransition, match="a newer version was sent; review it"):
        accept(status=ProposalStatus.SUPERSEDED)


def test_accepting_twice_or_a_draft_is_refused():
    with pytest.raises(InvalidTransition, match="already been accepted"):
        accept(status=ProposalStatus.ACCEPTED)
    with pytest.raises(InvalidTransition, match="not been sent"):
        accept(status=ProposalStatus.DRAFT)


def test_acceptance_needs_consent():
    with pytest.raises(InvalidArgument) as err:
        accept(consent=False)
    assert err.value.field == "consent"


@pytest.mark.parametrize("name", ["", "   ", "J", "x" * 201, "Jane\u200bHarrison"])
def test_acceptance_needs_a_typed_name(name):
    with pytest.raises(InvalidArgument) as err:
        accept(signer_name=name)
    assert err.value.field == "signer_name"


def test_single_word_names_are_fine():
    assert accept(signer_name="Cher").signer_name == "Cher"


def test_a_hash_other_than_the_one_sent_is_refused():
    with pytest.raises(InvalidTransition, match="changed since you opened it") as err:
        accept(given_sha256="cd" * 32)
    assert err.value.field == "content_sha256"
    with pytest.raises(InvalidTransition):
        accept(given_sha256="")


def test_the_ip_must_be_an_address():
    with pytest.raises(InvalidArgument) as err:
        accept(ip="not-an-ip")
    assert err.value.field == "ip"
    assert accept(ip="").ip == ""


def plan(earlier: EarlierUse, **kw) -> AcceptancePlan:
    values = {
        "status": ProposalStatus.SENT,
        "version": 2,
        "stored_sha256": HASH,
        "given_sha256": HASH,
        "consent": True,
        "signer_name": "Jane Harrison",
        "ip": "",
        "user_agent": "",
    }
    values.update(kw)
    return plan_acceptance(request_id="req-1", earlier=earlier, **values)


def test_plan_signs_a_sent_proposal_with_the_cleaned_evidence():
    signing = plan(EarlierUse())
    assert not signing.retry
    assert signing.evidence == Acceptance("Jane Harrison", "", "")


def test_plan_answers_the_accepting_request_again_as_a_retry():
    retry = plan(EarlierUse(accepted_by_request="req-1"), status=ProposalStatus.ACCEPTED)
    assert retry.retry and retry.evidence is None


def test_plan_refuses_another_request_on_an_accepted_proposal():
    with pytest.raises(InvalidTransition, match="already been accepted"):
        plan(EarlierUse(accepted_by_request="req-0"), status=ProposalStatus.ACCEPTED)


def test_plan_refuses_a_request_id_spent_on_another_proposal():
    with pytest.raises(InvalidArgument) as err:
        plan(EarlierUse(request_id_taken=True))
    assert err.value.field == "request_id"


def test_the_signers_email_and_client_name_are_kept_trimmed_to_their_columns():
    email, client = domain_acceptance.kept_identity("  ana@example.com \n", " " + "C" * 250)
    assert email == "ana@example.com"
    assert client == "C" * domain_acceptance.CLIENT_NAME_MAX
    assert domain_acceptance.kept_identity("x" * 400, "")[0] == "x" * 320

"""Which consumed event mails whom, and what: no database, no identity."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.documents.v1.events_pb2 import DocumentShared
from portal.identity.v1 import events_pb2 as identity_events
from portal.payments.v1 import events_pb2 as payments_events
from portal.projects.v1 import events_pb2 as projects_events

from services.chassis.events import subject_for
from services.notifications import domain, handlers, service
from services.notifications.service import booking_mail, change_order_mail

BRAND = domain.Brand(name="Acme AV", accent_color="#b4442b", support_email="", support_phone="")
PORTAL = "http://acme.localhost:8000"


def test_notifications_subscribes_to_every_event_it_mails_about_to_shares_and_to_audiences():
    subs = handlers.subscriptions(identity=None, portal_url_template=PORTAL)  # type: ignore[arg-type]
    assert sorted(s.subject for s in subs) == sorted(
        subject_for(t)
        for t in (
            projects_events.ProjectStageChanged,
            projects_events.ProposalSent,
            projects_events.ProposalAccepted,
            identity_events.ContactInvited,
            identity_events.StaffUserInvited,
            identity_events.MagicLinkRequested,
            identity_events.PasswordResetRequested,
            identity_events.StepUpCodeRequested,
            identity_events.CustomerAccessChanged,
            # Only to forget what the identity client keeps (identity_client.FORGETTING).
            identity_events.TenantUpdated,
            identity_events.StaffUserChanged,
            identity_events.CustomerChanged,
            identity_events.CustomerPurged,
            payments_events.InvoiceIssued,
            payments_events.PaymentSucceeded,
            payments_events.PaymentFailed,
            payments_events.PaymentVerificationRequired,  # "verify your bank account"
            DocumentShared,
            # The project audience copy (chassis.audience) that project mail goes by.
            projects_events.ProjectCreated,
            projects_events.ProjectAudienceChanged,
            # Change orders: asked, reminded, signed copy, staff told (change_order_mail.py).
            *change_order_mail.HANDLED,
            # Visits: the client and the technician, each with their .ics (booking_mail.py).
            *booking_mail.BOOKING_EVENTS,
        )
    )


def test_a_stage_change_mails_the_contacts_the_project_is_for_a_link_to_the_project():
    p = projects_events.ProjectStageChanged(
        project_id="p1", name="Cinema", reference="PRJ-1", customer_id="c1", to_stage=2
    )
    mailing = service.MAILINGS[type(p)](p)
    assert (mailing.customer_id, mailing.project_id, mailing.recipients) == ("c1", "p1", ())
    assert mailing.compose(BRAND, PORTAL).link == f"{PORTAL}/projects/p1"


def test_an_accepted_proposal_names_its_signer():
    p = projects_events.ProposalAccepted(
        project_id="p1", project_name="Cinema", customer_id="c1", version=2, signer_name="Jo"
    )
    p.total.amount_minor, p.total.currency = 1234567, "USD"
    mailing = service.MAILINGS[type(p)](p)
    assert mailing.project_id == "p1"  # only the contacts the project is for
    message = mailing.compose(BRAND, PORTAL)
    assert message.subject == "Cinema: proposal accepted"
    assert message.link == f"{PORTAL}/projects/p1/proposal"
    assert message.paragraphs[0].startswith("Jo accepted version 2")
    assert "$12,345.67 in total" in message.paragraphs[0]


def test_a_login_link_goes_to_the_person_it_is_for_only():
    p = identity_events.PasswordResetRequested(email="jo@x.example", full_name="Jo", token="t0k")
    p.expires_at.FromDatetime(datetime(2026, 3, 1, tzinfo=UTC))
    mailing = service.MAILINGS[type(p)](p)
    assert mailing.customer_id == ""
    assert mailing.recipients == (domain.Recipient("jo@x.example", "Jo"),)
    message = mailing.compose(BRAND, PORTAL)
    assert message.subject == "Reset your password for Acme AV"
    assert message.link == f"{PORTAL}/continue?token=t0k"


def test_a_staff_invite_goes_to_the_staff_user_with_the_console_invitation():
    p = identity_events.StaffUserInvited(
        staff_user_id="u1", email="sam@bw.example", full_name="Sam", token="t0k", invited_by=""
    )
    p.expires_at.FromDatetime(datetime(2026, 3, 1, tzinfo=UTC))
    mailing = service.MAILINGS[type(p)](p)
    assert mailing.recipients == (domain.Recipient("sam@bw.example", "Sam"),)
    message = mailing.compose(BRAND, PORTAL)
    assert message.subject == "Acme AV: your client portal is ready"
    assert message.paragraphs[0].startswith("You have been invited to the staff console")
    assert message.link == f"{PORTAL}/continue?token=t0k"
    assert subject_for(type(p)) in domain.SENSITIVE_EVENTS  # the link is scrubbed once sent


def test_an_access_change_mails_the_contacts_the_event_names():
    p = identity_events.CustomerAccessChanged(customer_name="Roe", to_state=domain.ARCHIVED)
    p.contacts.add(email="a@x.example", full_name="A")
    mailing = service.MAILINGS[type(p)](p)
    assert mailing.recipients == (domain.Recipient("a@x.example", "A"),)
    assert mailing.compose(BRAND, PORTAL).subject == "Acme AV: your portal is now read-only"


def test_an_invoice_goes_to_the_approvers_and_a_payment_to_the_client_and_finance():
    p = payments_events.InvoiceIssued(
        invoice_id="i1", number="INV-1", project_id="p1", customer_id="c1", due_on="2026-12-12"
    )
    p.due.amount_minor, p.due.currency = 200_000, "GBP"
    mailing = service.MAILINGS[type(p)](p)
    assert (mailing.customer_id, mailing.project_id, mailing.approvers_only) == ("c1", "p1", True)
    assert mailing.compose(BRAND, PORTAL).link == f"{PORTAL}/invoices/i1"
    paid = payments_events.PaymentSucceeded(invoice_id="i1", project_id="p1", customer_id="c1")
    receipt, received = service.MAILINGS[type(paid)](paid)
    assert (receipt.customer_id, receipt.approvers_only, receipt.staff_roles) == ("c1", False, ())
    assert (received.customer_id, received.staff_roles) == ("", ("finance", "owner", "admin"))

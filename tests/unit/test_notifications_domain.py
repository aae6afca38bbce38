from datetime import UTC, datetime

from services.notifications import domain

BRAND = domain.Brand(
    name="Acme AV",
    accent_color="#b4442b",
    support_email="hi@acme.example",
    support_phone="",
    time_zone="America/New_York",
)


def stage(**kw):
    args = dict(
        project_name="Cinema",
        reference="PRJ-0001",
        from_stage=3,
        to_stage=4,
        client_note="",
        link="http://acme.localhost/p/1",
    )
    return domain.render(domain.stage_changed(**{**args, **kw}), brand=BRAND, recipient="Jane")


def test_stage_changed_email_says_where_the_project_is():
    email = stage()
    assert email.subject == "Cinema: now in Commissioning"
    assert "Cinema (PRJ-0001) is now in Commissioning" in email.text
    assert "http://acme.localhost/p/1" in email.text and "#b4442b" in email.html
    assert email.text.startswith("Hello Jane,")


def test_a_crlf_project_name_makes_a_one_line_subject_and_a_clean_body():
    email = stage(project_name="A\r\nBcc: x@evil\x00", from_stage=1, to_stage=2)
    assert email.subject == "A Bcc: x@evil: now in Procurement"
    assert "Your project A Bcc: x@evil (PRJ-0001) is now in Procurement." in email.text
    assert "\r" not in email.text and "\x00" not in email.text + email.html


def test_moving_back_is_worded_as_such():
    assert "has moved back to Procurement" in stage(from_stage=3, to_stage=2).text


def test_client_note_is_escaped_in_html():
    email = stage(client_note="<script>alert(1)</script>")
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<script>alert(1)</script>" in email.text


def test_expiry_is_shown_in_the_tenants_time_zone():
    # 15:00 UTC on 1 Dec 2026 is 10:00 in New York.
    msg = domain.magic_link(
        brand=BRAND,
        link="http://x/continue?token=t",
        expires_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    )
    email = domain.render(msg, brand=BRAND, recipient="Jane")
    assert "1 Dec 2026, 10:00 EST" in email.text
    assert "http://x/continue?token=t" in email.text and "works once" in email.text


def test_invite_names_who_invited():
    msg = domain.contact_invited(
        brand=BRAND,
        invited_by="Olivia Grant",
        link="http://x",
        expires_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert msg.paragraphs[0].startswith("Olivia Grant at Acme AV has invited you")
    assert msg.button == "Set your password"


def test_a_staff_invite_is_for_the_console_and_reads_without_an_inviter():
    at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    onboarded = domain.staff_invited(brand=BRAND, invited_by="", link="http://x", expires_at=at)
    assert onboarded.paragraphs[0].startswith("You have been invited to the staff console")
    assert "Acme AV's client portal" in onboarded.paragraphs[0]
    assert onboarded.link == "http://x" and onboarded.button == "Set your password"
    assert "1 Dec 2026, 10:00 EST" in onboarded.after[0]
    by_owner = domain.staff_invited(brand=BRAND, invited_by="Olivia", link="x", expires_at=at)
    assert by_owner.paragraphs[0].startswith("Olivia has invited you to the staff console")


def test_access_changes_each_say_what_the_client_can_still_do():
    archived = domain.access_changed(
        brand=BRAND,
        customer_name="The Harrisons",
        to_state=domain.ARCHIVED,
        purge_after=None,
        link="http://x/",
    )
    assert "read-only" in archived.subject and "download invoices" in archived.paragraphs[0]
    deleted = domain.access_changed(
        brand=BRAND,
        customer_name="The Harrisons",
        to_state=domain.DELETED,
        purge_after=datetime(2026, 12, 25, 12, tzinfo=UTC),
        link="http://x/",
    )
    assert "closed" in deleted.subject and "restored until" in deleted.paragraphs[0]
    assert deleted.link == ""  # nothing to open any more
    restored = domain.access_changed(
        brand=BRAND,
        customer_name="The Harrisons",
        to_state=domain.ACTIVE,
        purge_after=None,
        link="http://x/",
    )
    assert "restored" in restored.subject


def test_money_is_formatted_for_people():
    assert domain.format_money(1234567, "USD") == "$12,345.67"
    assert domain.format_money(5, "GBP") == "£0.05"
    assert domain.format_money(-250, "EUR") == "-€2.50"
    assert domain.format_money(100000, "CHF") == "CHF 1,000.00"
    assert domain.format_money(123456, "JPY") == "¥123,456"


def test_proposal_emails_say_what_to_do():
    sent = domain.proposal_sent(
        project_name="Cinema", reference="PRJ-0001", version=2, total="$10.00", link="http://x/p"
    )
    assert "ready to review" in sent.subject and "Version 2" in sent.paragraphs[0]
    accepted = domain.proposal_accepted(
        project_name="Cinema",
        reference="PRJ-0001",
        version=2,
        total="$10.00",
        signer="Jane Harrison",
        link="http://x/p",
    )
    assert accepted.paragraphs[0].startswith("Jane Harrison accepted version 2")


def test_a_digest_waits_for_sharing_to_go_quiet():
    from datetime import timedelta

    t = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert not domain.digest_due(t, t + timedelta(seconds=59), 60)
    assert domain.digest_due(t, t + timedelta(seconds=60), 60)


def test_ten_documents_make_one_message_listing_them():
    one = domain.documents_shared(project_name="Cinema", titles=["Handover guide"], link="x")
    assert one.subject == "Cinema: a new document for you"
    many = domain.documents_shared(
        project_name="Cinema", titles=[f"Manual {i}" for i in range(10)], link="x"
    )
    assert many.subject == "Cinema: 10 new documents for you"
    assert len([p for p in many.paragraphs if p.startswith("- Manual")]) == 10


def test_login_link_message_picks_the_email_for_the_link_kind():
    at = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    subjects = {
        kind: domain.login_link_message(
            kind, brand=BRAND, invited_by="Sam", link="http://x/continue", expires_at=at
        ).subject
        for kind in domain.LinkKind
    }
    assert subjects == {
        domain.LinkKind.INVITE: "Acme AV: set up your project portal",
        domain.LinkKind.STAFF_INVITE: "Acme AV: your client portal is ready",
        domain.LinkKind.MAGIC_LINK: "Your sign-in link for Acme AV",
        domain.LinkKind.PASSWORD_RESET: "Reset your password for Acme AV",
    }


def test_proposal_message_names_the_signer_only_once_accepted():
    args = dict(
        project_name="Cinema", reference="PRJ-1", version=2, total="$10.00", link="http://x"
    )
    sent = domain.proposal_message(accepted=False, signer="", **args)
    accepted = domain.proposal_message(accepted=True, signer="Jane Roe", **args)
    assert sent.subject == "Cinema: your proposal is ready to review"
    assert accepted.subject == "Cinema: proposal accepted"
    assert accepted.paragraphs[0].startswith("Jane Roe accepted version 2")

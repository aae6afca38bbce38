"""The change order's waiting item, decided without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from services.projects.domain_changeorders import Report, plan_waiting, title_of

DEADLINE = datetime(2026, 12, 12, 17, 0, tzinfo=UTC)


def report(event: str, revision: int = 1) -> Report:
    return Report(
        event=event,
        change_order_id="co-1",
        project_id="p-1",
        number="CO-001",
        revision=revision,
        title="Second subwoofer" if event == "sent" else "",
        deadline=DEADLINE if event == "sent" else None,
    )


def test_the_title_names_the_order_and_its_deadline():
    assert title_of("CO-001", "Second subwoofer", DEADLINE) == (
        "CO-001 Second subwoofer awaits your approval — by 12 Dec"
    )
    assert title_of("CO-002", "Rack", None) == "CO-002 Rack awaits your approval"


# 23:30 on 12 Dec in Los Angeles (PST, UTC-8) is 07:30 on the 13th in UTC.
LATE_IN_LOS_ANGELES = datetime(2026, 12, 13, 7, 30, tzinfo=UTC)
# 00:05 on 13 Dec in Auckland (NZDT, UTC+13) is 11:05 on the 12th in UTC.
JUST_AFTER_MIDNIGHT_IN_AUCKLAND = datetime(2026, 12, 12, 11, 5, tzinfo=UTC)


def test_the_deadline_is_the_day_on_the_integrators_clock():
    def by(deadline: datetime, zone: str) -> str:
        return title_of("CO-001", "Sub", deadline, zone).rsplit("by ", 1)[1]

    assert by(LATE_IN_LOS_ANGELES, "America/Los_Angeles") == "12 Dec"
    assert by(LATE_IN_LOS_ANGELES, "") == "13 Dec"  # no zone set: UTC's day
    assert by(JUST_AFTER_MIDNIGHT_IN_AUCKLAND, "Pacific/Auckland") == "13 Dec"
    assert by(JUST_AFTER_MIDNIGHT_IN_AUCKLAND, "UTC") == "12 Dec"


def test_a_sent_report_carries_its_zone_into_the_title():
    sent = Report(
        event="sent",
        change_order_id="co-1",
        project_id="p-1",
        number="CO-001",
        revision=1,
        title="Sub",
        deadline=JUST_AFTER_MIDNIGHT_IN_AUCKLAND,
        time_zone="Pacific/Auckland",
    )
    plan = plan_waiting(None, False, sent)
    assert plan is not None and plan.title == "CO-001 Sub awaits your approval — by 13 Dec"


def test_sent_opens_it_with_a_link_to_the_order():
    plan = plan_waiting(None, False, report("sent"))
    assert plan is not None and plan.open
    assert plan.link == "/projects/p-1/change-orders/co-1"


def test_every_end_of_a_revision_resolves_it():
    opened = plan_waiting(None, False, report("sent"))
    assert opened is not None
    for event in ("approved", "pushed_back", "withdrawn", "expired"):
        plan = plan_waiting(opened.report_order, True, report(event))
        assert plan is not None and not plan.open, event


def test_an_older_or_repeated_report_is_not_news():
    approved = plan_waiting(None, False, report("approved"))
    assert approved is not None and not approved.open  # kept, resolved
    assert plan_waiting(approved.report_order, True, report("sent")) is None
    assert plan_waiting(approved.report_order, True, report("viewed")) is None
    assert plan_waiting(approved.report_order, True, report("approved")) is None


def test_a_new_revision_supersedes_the_old_one():
    pushed = plan_waiting(None, False, report("pushed_back"))
    assert pushed is not None
    revised = plan_waiting(pushed.report_order, True, report("revised", 2))
    assert revised is not None and not revised.open
    again = plan_waiting(revised.report_order, True, report("sent", 2))
    assert again is not None and again.open
    assert plan_waiting(again.report_order, True, report("pushed_back", 1)) is None


def test_a_view_before_its_send_waits_for_the_send():
    assert plan_waiting(None, False, report("viewed")) is None
    viewed = plan_waiting(None, True, report("viewed"))
    assert viewed is not None and viewed.title == ""  # keeps the title held
    sent = plan_waiting(viewed.report_order, True, report("sent"))
    assert sent is not None and sent.title.startswith("CO-001 Second subwoofer")

from services.notifications import domain

BRAND = domain.Brand(
    name="Acme AV", accent_color="#b4442b", support_email="hi@acme.example", support_phone=""
)


def render(**kw):
    args = dict(
        brand=BRAND,
        recipient="Jane",
        project_name="Cinema",
        reference="PRJ-0001",
        from_stage=3,
        to_stage=4,
        client_note="",
        link="http://acme.localhost/p/1",
    )
    return domain.render_stage_changed(**{**args, **kw})


def test_stage_changed_email_says_where_the_project_is():
    email = render()
    assert email.subject == "Cinema: now in Commissioning"
    assert "Cinema (PRJ-0001) is now in Commissioning" in email.text
    assert "http://acme.localhost/p/1" in email.text and "#b4442b" in email.html


def test_moving_back_is_worded_as_such():
    assert "has moved back to Procurement" in render(from_stage=3, to_stage=2).text


def test_client_note_is_escaped_in_html():
    email = render(client_note="<script>alert(1)</script>")
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<script>alert(1)</script>" in email.text


def test_retry_delays_grow_then_give_up():
    delays = [domain.next_attempt_delay(n) for n in range(1, len(domain.RETRY_DELAYS) + 2)]
    assert delays[:-1] == sorted(delays[:-1]) and delays[-1] is None

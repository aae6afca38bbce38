"""What an email says: pure rendering, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, select_autoescape

STAGE_LABELS = {
    1: "Design",
    2: "Procurement",
    3: "Install",
    4: "Commissioning",
    5: "Handover",
}
# Backoff between SMTP attempts, in seconds, by attempt number.
RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200)

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

_HTML = _env.from_string(
    """<!doctype html><html>
<body style="margin:0;background:#f5f6f8;font-family:system-ui,sans-serif">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="100%" style="max-width:560px;background:#fff;margin:24px 0">
<tr><td style="background:{{ accent }};color:#fff;padding:16px 24px;font-size:18px;font-weight:600">
{{ brand }}</td></tr>
<tr><td style="padding:24px;color:#1d2430;font-size:16px;line-height:1.5">
<p>Hello {{ recipient }},</p>
<p>{{ headline }}</p>
{% if note %}
<p style="border-left:4px solid {{ accent }};padding-left:12px">{{ note }}</p>
{% endif %}
<p><a href="{{ link }}" style="display:inline-block;background:{{ accent }};color:#fff;
padding:12px 20px;border-radius:6px;text-decoration:none">Open your project portal</a></p>
</td></tr>
<tr><td style="padding:16px 24px;color:#5b6472;font-size:13px">{{ brand }}
{% if support_email %} &middot; {{ support_email }}{% endif %}
{% if support_phone %} &middot; {{ support_phone }}{% endif %}</td></tr>
</table></td></tr></table></body></html>"""
)


@dataclass(frozen=True)
class Brand:
    name: str
    accent_color: str
    support_email: str
    support_phone: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def stage_label(stage: int) -> str:
    return STAGE_LABELS.get(stage, "an unknown stage")


def render_stage_changed(
    *,
    brand: Brand,
    recipient: str,
    project_name: str,
    reference: str,
    from_stage: int,
    to_stage: int,
    client_note: str,
    link: str,
) -> RenderedEmail:
    moved_back = to_stage < from_stage
    verb = "has moved back to" if moved_back else "is now in"
    headline = f"Your project {project_name} ({reference}) {verb} {stage_label(to_stage)}."
    subject = f"{project_name}: now in {stage_label(to_stage)}"
    text_lines = [f"Hello {recipient},", "", headline]
    if client_note:
        text_lines += ["", client_note]
    text_lines += ["", f"Open your project portal: {link}", "", "--", brand.name]
    if brand.support_email:
        text_lines.append(brand.support_email)
    html = _HTML.render(
        accent=brand.accent_color or "#1f6feb",
        brand=brand.name,
        recipient=recipient,
        headline=headline,
        note=client_note,
        link=link,
        support_email=brand.support_email,
        support_phone=brand.support_phone,
    )
    return RenderedEmail(subject=subject, text="\n".join(text_lines) + "\n", html=html)


def next_attempt_delay(attempts: int) -> int | None:
    """Seconds until the next try after `attempts` failures; None means give up."""
    if attempts <= 0:
        return 0
    if attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1]

"""One amount, one text: the portal's pages, the emails and the signed PDF
all write a JPY and a GBP amount the same way."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2
from pypdf import PdfReader

from gateway.api.translate import money_out
from gateway.pages.formatting import build_templates
from services.notifications import domain as email
from services.projects import domain_proposals as dp
from services.projects.pdf import Letterhead, SignatureBlock, render_signed_proposal


@pytest.mark.parametrize(
    ("currency", "minor", "shown"), [("JPY", 123_456, "¥123,456"), ("GBP", 123_456, "£1,234.56")]
)
def test_an_amount_reads_the_same_on_the_page_in_the_email_and_in_the_pdf(currency, minor, shown):
    total = common_pb2.Money(currency=currency, amount_minor=minor)

    page = build_templates().env.from_string("<dd>{{ total|money }}</dd>").render(total=total)
    assert page == f"<dd>{shown}</dd>"
    api = money_out(projects_pb2.Budget(contract_value=total), "contract_value")
    assert api is not None and api.formatted == shown

    message = email.proposal_sent(
        project_name="Abroad",
        reference="PRJ-0050",
        version=1,
        total=email.format_money(total.amount_minor, total.currency),
        link="https://acme.example/projects/p",
    )
    rendered = email.render(
        message, brand=email.Brand("Northlight", "#1f6feb", "", ""), recipient="Eleanor"
    )
    assert f"{shown} in total" in rendered.text and f"{shown} in total" in rendered.html

    content = dp.signed_content(
        project_reference="PRJ-0050",
        project_name="Abroad",
        version=1,
        currency=currency,
        rooms=(
            dp.SnapshotRoom("Cinema", True, (dp.SnapshotLine("", "Screen", "", 1, minor, True),)),
        ),
        terms=dp.Terms("Screen", "", 0, 0, 0),
    )
    signature = SignatureBlock(
        signer_name="Eleanor Vance",
        signer_contact_id="c0ffee00-0000-4000-8000-000000000001",
        signer_email="eleanor@example.com",
        signed_at=datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
        ip="203.0.113.7",
        user_agent="test",
        content_sha256=content.sha256(),
        consent_text=dp.CONSENT_TEXT,
    )
    document = render_signed_proposal(content, signature, Letterhead(integrator_name="Northlight"))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(document)).pages)
    assert f"Total {shown}" in " ".join(text.split())

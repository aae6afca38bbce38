"""The integrator's letterhead, built in one place from the tenant's branding.

The gateway, which has already resolved the tenant, builds the message and
sends it with every call that renders a document (accepting a proposal files
a signed copy; downloading one draws it), and producers carry it on their
events, so each copy of a document wears the same letterhead. Whoever draws
the PDF turns the message back into the layout's `pdf.Letterhead`.

A logo known only by URL is not fetched: rendering must not reach the network
(and should not hot-link). Logo bytes come with an uploaded logo; until the
tenant has one, the letterhead has none.
"""

from __future__ import annotations

from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2

from services.chassis import pdf


def letterhead_of(tenant: identity_pb2.Tenant, *, logo: bytes = b"") -> common_pb2.Letterhead:
    """The letterhead for documents of `tenant`; `logo` is an uploaded logo's bytes."""
    b = tenant.branding
    return common_pb2.Letterhead(
        integrator_name=tenant.display_name,
        address_lines=address_lines(b.postal_address),
        contact_email=b.support_email,
        contact_phone=b.support_phone,
        website=b.website,
        logo=logo,
        time_zone=tenant.time_zone or "UTC",
    )


def address_lines(postal_address: str) -> list[str]:
    """A postal address as the lines it is printed on (blank lines dropped)."""
    return [line.strip() for line in postal_address.splitlines() if line.strip()]


def layout(
    letterhead: common_pb2.Letterhead, *, client_name: str = "", site: str = ""
) -> pdf.Letterhead:
    """The PDF layout's letterhead: the integrator's, and who and where the document is for."""
    return pdf.Letterhead(
        integrator_name=letterhead.integrator_name,
        address="\n".join(letterhead.address_lines),
        support_email=letterhead.contact_email,
        support_phone=letterhead.contact_phone,
        website=letterhead.website,
        logo=bytes(letterhead.logo) or None,
        client_name=client_name,
        site=site,
        time_zone=letterhead.time_zone or "UTC",
    )

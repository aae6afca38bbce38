"""Every dependency a route declares, as one `Annotated` alias each (as the
FastAPI full-stack template's `deps.py`): `tenant: TenantDep`, `caller: CallerDep`.

The providers of the tenant, the backends, the session and the caller live
with what they need (tenancy, backends, sessions, auth); those modules declare
their own parameters inline, since this module imports them. The providers
that would otherwise sit in a route package live here: importing any module of
`gateway.api` or `gateway.pages` runs that package's `__init__`, which imports
every route module, and each of those imports this one."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Query, Request
from portal.common.v1 import common_pb2

from gateway.auth import (
    authenticate_caller,
    authenticate_platform,
    authenticate_staff,
    docs_reader,
    download_principal,
    require_session,
    require_staff_session,
)
from gateway.backends import (
    Backends,
    BookingsRemote,
    ChangeOrdersRemote,
    DocumentsRemote,
    PaymentsRemote,
    current_backends,
)
from gateway.problems import Problem, ProblemError, problem_type
from gateway.sessions import (
    SignedIn,
    resolve_session,
    session_cookie_value,
    session_of,
    settings_of,
)
from gateway.settings import GatewaySettings
from gateway.step_up import Signer, require_signer
from gateway.tenancy import Tenant, TenantCache, current_tenant, tenant_cache
from services.chassis.auth import Principal

if TYPE_CHECKING:
    from gateway.api.proposal_shapes import Proposal


async def request_id(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=100,
            description="Send the same key when retrying; the change then happens once.",
        ),
    ] = None,
) -> str:
    """The Idempotency-Key header becomes the request id every mutating RPC
    carries, so a retried or double-clicked request happens once."""
    return idempotency_key or str(uuid.uuid4())


# A list's page, as query parameters: `PageDep`, or both inline where one
# dependency fewer matters (the project list: ~10 µs per solved dependency).
PageSize = Annotated[
    int | None,
    Query(ge=1, le=100, description="Items per page; the service's default if unset."),
]
PageToken = Annotated[
    str, Query(max_length=1024, description="`next_page_token` from the previous page.")
]


def page_of(page_size: int | None, page_token: str) -> common_pb2.PageRequest:
    return common_pb2.PageRequest(page_size=page_size or 0, page_token=page_token)


async def page_request(
    page_size: PageSize = None, page_token: PageToken = ""
) -> common_pb2.PageRequest:
    return page_of(page_size, page_token)


def _documents_unavailable() -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("unavailable"),
            title="Service unavailable",
            status=503,
            detail="Documents are not available on this portal yet.",
            code="documents_unavailable",
        )
    )


async def documents_remote(
    backends: Annotated[Backends, Depends(current_backends)],
) -> DocumentsRemote:
    if backends.documents is None:
        raise _documents_unavailable()
    return backends.documents


async def payments_remote(
    backends: Annotated[Backends, Depends(current_backends)],
) -> PaymentsRemote:
    if backends.payments is None:
        raise ProblemError(
            Problem(
                type=problem_type("unavailable"),
                title="Service unavailable",
                status=503,
                detail="Invoices and payments are not available on this portal yet.",
                code="payments_unavailable",
            )
        )
    return backends.payments


async def changeorders_remote(
    backends: Annotated[Backends, Depends(current_backends)],
) -> ChangeOrdersRemote:
    if backends.changeorders is None:
        raise ProblemError(
            Problem(
                type=problem_type("unavailable"),
                title="Service unavailable",
                status=503,
                detail="Change orders are not available on this portal yet.",
                code="changeorders_unavailable",
            )
        )
    return backends.changeorders


async def bookings_remote(
    backends: Annotated[Backends, Depends(current_backends)],
) -> BookingsRemote:
    if backends.bookings is None:
        raise ProblemError(
            Problem(
                type=problem_type("unavailable"),
                title="Service unavailable",
                status=503,
                detail="Booking visits is not available on this portal yet.",
                code="bookings_unavailable",
            )
        )
    return backends.bookings


# The page guards send the wrong visitor elsewhere. PageRedirect is imported
# when a page is asked for: gateway.pages imports this module. Each guard is
# one dependency of the request alone (no nested Depends): FastAPI's solving
# of every sub-dependency cost more of a page's gateway CPU than the checks.


async def _signed_in(request: Request) -> SignedIn:
    from gateway.pages.rendering import PageRedirect

    signed_in = await session_of(request)
    if signed_in is None:
        stale = session_cookie_value(request, request.app.state.settings) is not None
        raise PageRedirect(
            "/",
            flash="Your session has ended. Please sign in again." if stale else None,
            sign_out=stale,
        )
    return signed_in


async def signed_in_page(request: Request) -> SignedIn:
    return await _signed_in(request)


async def client_page(request: Request) -> SignedIn:
    """The client portal: contacts, and staff viewing as a client."""
    from gateway.pages.rendering import PageRedirect

    signed_in = await _signed_in(request)
    if signed_in.portal is None:
        raise PageRedirect("/console")
    return signed_in


async def staff_page(request: Request) -> SignedIn:
    signed_in = await _signed_in(request)
    if not signed_in.is_staff:
        raise ProblemError(
            Problem(
                type=problem_type("forbidden"),
                title="This page is for staff",
                status=403,
                detail="This part of the portal is for the integrator's staff. "
                "Your own portal is on the home page.",
                code="forbidden",
            )
        )
    return signed_in


async def proposal_in_url(
    project_id: str,
    proposal_id: str,
    signed_in: Annotated[SignedIn, Depends(client_page)],
    backends: Annotated[Backends, Depends(current_backends)],
) -> Proposal:
    """The proposal in /projects/{project_id}/proposal/{proposal_id}, if it is
    that project's."""
    from gateway.pages.projects import page_id, portal_of, proposal_in_project

    project_id = page_id(project_id, "project")
    return await proposal_in_project(backends, portal_of(signed_in), project_id, proposal_id)


# The request's context: settings, tenant, channels to the services.
SettingsDep = Annotated[GatewaySettings, Depends(settings_of)]
TenantDep = Annotated[Tenant, Depends(current_tenant)]
TenantCacheDep = Annotated[TenantCache, Depends(tenant_cache)]
BackendsDep = Annotated[Backends, Depends(current_backends)]
DocumentsDep = Annotated[DocumentsRemote, Depends(documents_remote)]

# Who calls the API: a session (cookie + CSRF), staff, staff or a client contact.
OptionalSessionDep = Annotated[SignedIn | None, Depends(resolve_session)]
SessionDep = Annotated[SignedIn, Depends(require_session)]
StaffSessionDep = Annotated[SignedIn, Depends(require_staff_session)]
StaffDep = Annotated[Principal, Depends(authenticate_staff)]
CallerDep = Annotated[Principal, Depends(authenticate_caller)]
DownloaderDep = Annotated[Principal, Depends(download_principal)]
# The platform host: the operator (platform token), and who may read the API docs.
PlatformDep = Annotated[Principal, Depends(authenticate_platform)]
DocsReaderDep = Annotated[None, Depends(docs_reader)]

# What a request carries: its idempotency key, its page of a list.
RequestIdDep = Annotated[str, Depends(request_id)]
PageDep = Annotated[common_pb2.PageRequest, Depends(page_request)]
PaymentsDep = Annotated[PaymentsRemote, Depends(payments_remote)]
BookingsDep = Annotated[BookingsRemote, Depends(bookings_remote)]
ChangeOrdersDep = Annotated[ChangeOrdersRemote, Depends(changeorders_remote)]
# A client signing (approve, push back): their own session, recently proven.
StepUpDep = Annotated[Signer, Depends(require_signer)]

# Who may see a page, and the proposal a page's URL names.
SignedInPage = Annotated[SignedIn, Depends(signed_in_page)]
ClientPage = Annotated[SignedIn, Depends(client_page)]
StaffPage = Annotated[SignedIn, Depends(staff_page)]
ProposalInUrl = Annotated["Proposal", Depends(proposal_in_url)]

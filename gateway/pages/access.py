"""Who may see a page: dependencies that send the wrong visitor elsewhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.pages.rendering import PageRedirect
from gateway.problems import Problem, ProblemError, problem_type
from gateway.sessions import OptionalSessionDep, SettingsDep, SignedIn, session_cookie_value


async def signed_in_page(
    request: Request, signed_in: OptionalSessionDep, settings: SettingsDep
) -> SignedIn:
    if signed_in is None:
        stale = session_cookie_value(request, settings) is not None
        raise PageRedirect(
            "/",
            flash="Your session has ended. Please sign in again." if stale else None,
            sign_out=stale,
        )
    return signed_in


SignedInPage = Annotated[SignedIn, Depends(signed_in_page)]


async def client_page(signed_in: SignedInPage) -> SignedIn:
    """The client portal: contacts, and staff viewing as a client."""
    if signed_in.portal is None:
        raise PageRedirect("/console")
    return signed_in


ClientPage = Annotated[SignedIn, Depends(client_page)]


async def staff_page(signed_in: SignedInPage) -> SignedIn:
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


StaffPage = Annotated[SignedIn, Depends(staff_page)]

"""The client's portal: home (their projects) and their account (password,
sessions). Staff viewing as a client see the same pages, read-only, under a
banner with the way back."""

from __future__ import annotations

from fastapi import APIRouter, Request
from portal.identity.v1 import identity_pb2
from starlette.responses import Response

from gateway.api.projects import Project, landing_of
from gateway.backends import Backends, RemoteError
from gateway.deps import BackendsDep, ClientPage, SignedInPage, StaffPage
from gateway.pages.projects import (
    LIST_SIZE,
    list_projects,
    portal_of,
    project_items,
    render_board,
)
from gateway.pages.rendering import refusal, render, see_other, signed_in_form
from gateway.sessions import SignedIn

router = APIRouter(include_in_schema=False)


async def landing(request: Request, signed_in: SignedIn, backends: Backends) -> Response:
    """What "/" shows a returning client (or staff viewing as one), in one
    request and one projects call: the board of their only project (projects
    answers it with the list), else their list. (Going through /home and its
    redirect resolved the session and listed projects twice.)"""
    landing = await landing_of(backends, portal_of(signed_in), LIST_SIZE)
    if landing.board is not None:
        return render_board(request, signed_in, landing.board)
    return _home_page(request, signed_in, landing.projects, landing.more)


@router.get("/home")
async def home(request: Request, signed_in: ClientPage, backends: BackendsDep) -> Response:
    """Their projects; a client with exactly one is taken straight to its board."""
    found, more = await list_projects(backends, portal_of(signed_in))
    if len(found) == 1 and not more:
        return see_other(request, f"/projects/{found[0].id}")
    return _home_page(request, signed_in, found, more)


def _home_page(request: Request, signed_in: SignedIn, found: list[Project], more: bool) -> Response:
    return render(
        request,
        "home.html",
        signed_in=signed_in,
        surface="portal",
        projects=project_items(found),
        more=more,
    )


@router.post("/view-as/exit")
async def exit_client_view(
    request: Request, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    await signed_in_form(request, signed_in)
    customer_id = signed_in.session.customer_id
    identity = backends.identity
    await identity.call(
        identity.stub.StopViewAsClient,
        identity_pb2.StopViewAsClientRequest(current_session_id=signed_in.session.id),
        principal=signed_in.person,
    )
    target = f"/console/customers/{customer_id}" if customer_id else "/console"
    return see_other(request, target, flash="You have left the client view.", kind="info")


async def _sessions(signed_in: SignedInPage, backends: BackendsDep) -> list[identity_pb2.Session]:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListSessions,
        identity_pb2.ListSessionsRequest(current_session_id=signed_in.session.id),
        principal=signed_in.person,
    )
    # This device first, then the most recently seen.
    return sorted(
        answer.sessions,
        key=lambda s: (s.id != signed_in.session.id, -s.last_seen_at.seconds),
    )


async def _account(
    request: Request,
    signed_in: SignedInPage,
    backends: BackendsDep,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "account.html",
        signed_in=signed_in,
        status=status,
        sessions=await _sessions(signed_in, backends),
        error=error,
        errors=errors or {},
    )


@router.get("/account")
async def account(request: Request, signed_in: SignedInPage, backends: BackendsDep) -> Response:
    return await _account(request, signed_in, backends)


@router.post("/account/password")
async def change_password(
    request: Request, signed_in: SignedInPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    current, new = form.secret("current_password"), form.secret("new_password")
    missing = {
        "current_password": "Enter your current password." if not current else "",
        "new_password": "Choose a new password." if not new else "",
        "confirm_password": "The two passwords are not the same."
        if new and new != form.secret("confirm_password")
        else "",
    }
    errors = {name: message for name, message in missing.items() if message}
    if errors:
        return await _account(request, signed_in, backends, status=422, errors=errors)
    identity = backends.identity
    try:
        await identity.call(
            identity.stub.ChangePassword,
            identity_pb2.ChangePasswordRequest(
                current_password=current,
                new_password=new,
                current_session_id=signed_in.session.id,
            ),
            principal=signed_in.person,
        )
    except RemoteError as exc:
        why = refusal(exc)
        return await _account(
            request, signed_in, backends, status=why.status, error=why.message, errors=why.fields
        )
    return see_other(
        request,
        "/account",
        flash="Your password is changed. Your other sessions have been signed out.",
    )


@router.post("/account/sessions/revoke-others")
async def revoke_other_sessions(
    request: Request, signed_in: SignedInPage, backends: BackendsDep
) -> Response:
    await signed_in_form(request, signed_in)
    identity = backends.identity
    answer = await identity.call(
        identity.stub.RevokeSessions,
        identity_pb2.RevokeSessionsRequest(
            current_session_id=signed_in.session.id, all_but_current=True
        ),
        principal=signed_in.person,
    )
    n = answer.revoked
    message = (
        f"Signed out of {n} other session{'s' if n != 1 else ''}."
        if n
        else "There were no other sessions."
    )
    return see_other(request, "/account", flash=message)


@router.post("/account/sessions/{session_id}/revoke")
async def revoke_session(
    request: Request, session_id: str, signed_in: SignedInPage, backends: BackendsDep
) -> Response:
    await signed_in_form(request, signed_in)
    identity = backends.identity
    await identity.call(
        identity.stub.RevokeSessions,
        identity_pb2.RevokeSessionsRequest(
            current_session_id=signed_in.session.id, session_id=session_id[:100]
        ),
        principal=signed_in.person,
    )
    return see_other(request, "/account", flash="That session is signed out.")

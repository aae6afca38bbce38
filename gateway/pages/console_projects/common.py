"""What the console's project pages share: form ids, URLs, acting on a form,
and the integrator's staff as identity lists them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

from fastapi import Request
from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2
from portal.projects.v1 import projects_pb2
from starlette.responses import Response

from gateway.backends import Backends, RemoteError
from gateway.pages.rendering import (
    Form,
    refusal,
    see_other,
)
from gateway.sessions import SignedIn
from services.chassis.money import exponent

P = projects_pb2
IP = identity_pb2
PAGE_SIZE = 100
MAX_PAGES = 20  # a customer filter reads at most this many pages of projects


def form_request_id(form: Form) -> str:
    """The form's own id (rendered with it), so a double-click creates one thing."""
    try:
        return str(uuid.UUID(form.get("request_id")))
    except ValueError:
        return str(uuid.uuid4())


def project_url(project_id: str, anchor: str = "") -> str:
    return f"/console/projects/{project_id}" + (f"#{anchor}" if anchor else "")


async def act(request: Request, call: Awaitable[Any], *, then: str, done: str) -> Response:
    """Do it, then go back to `then` saying so; a refusal is said instead."""
    try:
        await call
    except RemoteError as exc:
        return see_other(request, then, flash=refusal(exc).message, kind="error")
    return see_other(request, then, flash=done)


def amount_text(money: common_pb2.Money) -> str:
    """A Money as a console form shows it to be edited: "1234.50"."""
    if not money.currency:
        return ""
    places = exponent(money.currency)
    major, minor = divmod(money.amount_minor, 10**places)
    return f"{major}.{minor:0{places}d}" if places else str(major)


async def staff_users(backends: Backends, signed_in: SignedIn) -> list[identity_pb2.StaffUser]:
    """The integrator's staff, by name: identity owns who they are and what they are called."""
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListStaffUsers, IP.ListStaffUsersRequest(), principal=signed_in.person
    )
    return sorted(answer.users, key=lambda u: u.full_name.lower())

"""The JSON API, /api/v1."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from gateway.api import (
    auth,
    bookings,
    brand_images,
    changeorders,
    customers,
    documents,
    emails,
    me,
    payments,
    platform,
    projects,
    proposals,
    rooms,
    staff,
    stripe_webhook,
    tenant,
)
from gateway.api.bookings import dispatch as bookings_dispatch
from gateway.api.fields import is_json, refuse_unusable_input
from gateway.problems import problem_responses, unsupported_media_type

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def json_bodies_only(request: Request) -> None:
    """A body must say it is JSON. FastAPI would parse one with no Content-Type
    as JSON too, and a cross-site page can send that without a preflight."""
    if request.method not in _BODY_METHODS or not await request.body():
        return
    if is_json(request.headers.get("content-type", "")):
        return
    raise unsupported_media_type("Send the body as JSON with 'Content-Type: application/json'.")


async def usable_json_input(request: Request) -> None:
    """Both checks of every JSON route, in this order (415 before 422), as one
    dependency: each dependency FastAPI solves costs the gateway ~10 µs."""
    await json_bodies_only(request)
    await refuse_unusable_input(request)


# Included in the app one by one with these settings (not through one parent
# router: FastAPI matches a request again at every level of inclusion).
INCLUDED_WITH: dict[str, Any] = {
    "prefix": "/api/v1",
    "responses": problem_responses(404, 422, 500, 503, 504),
    "dependencies": [Depends(usable_json_input)],
}
routers = (
    tenant.router,
    auth.router,
    me.router,
    customers.router,
    staff.router,
    projects.router,
    rooms.router,
    proposals.router,
    emails.router,
    documents.router,
    payments.router,
    changeorders.router,
    bookings_dispatch.router,
    bookings.router,
    platform.router,
)
# Multipart uploads and file downloads: not JSON, so outside json_bodies_only.
uploads = APIRouter()
uploads.include_router(documents.upload_router)
uploads.include_router(brand_images.upload_router)
uploads.include_router(bookings.photo_router)
downloads = documents.download_router
# Technicians' ICS feeds: a secret URL a calendar app holds, no session.
feeds = bookings.feed_router
# Stripe's webhook: a raw signed body, on no tenant's host.
webhooks = stripe_webhook.router

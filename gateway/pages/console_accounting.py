"""The console's accounting page: connect QuickBooks Online or Xero, see
each record's sync state, retry a failed one, disconnect.

Connecting is a link, not a form: the page's CSP allows forms to post only
to this host, and browsers apply form-action to the redirect after a POST,
so a form could not send the person on to the provider. The provider sends
them back to `/console/accounting/callback`, where the OAuth2 state (bound
to this tenant by payments, spent once) is what proves the round trip.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from starlette.responses import RedirectResponse, Response

from gateway.api.payments import accounting as api
from gateway.backends import RemoteError
from gateway.deps import PaymentsDep, StaffPage
from gateway.pages.rendering import refusal, render, see_other, signed_in_form

router = APIRouter(include_in_schema=False)
PAGE = "/console/accounting"
STATES = ("failed", "pending", "posted")


@router.get(PAGE)
async def accounting_page(
    request: Request, signed_in: StaffPage, payments: PaymentsDep, state: str = ""
) -> Response:
    wanted = state if state in STATES else ""
    books = await api.fetch_status(payments, signed_in.person)
    records = await api.list_records(
        payments, signed_in.person, common_pb2.PageRequest(page_size=100), wanted
    )
    return render(
        request,
        "console/accounting.html",
        signed_in=signed_in,
        surface="console",
        books=books,
        records=records.records,
        more=bool(records.next_page_token),
        wanted=wanted,
        states=STATES,
        names=api.PROVIDER_NAMES,
    )


@router.get(PAGE + "/connect")
async def connect(
    request: Request, signed_in: StaffPage, payments: PaymentsDep, provider: str = ""
) -> Response:
    try:
        url = await api.start(payments, signed_in.person, provider, api.callback_url(request))
    except RemoteError as exc:
        return see_other(request, PAGE, flash=refusal(exc).message, kind="error")
    return RedirectResponse(url, status_code=303)


@router.get(api.CALLBACK)
async def callback(
    request: Request,
    signed_in: StaffPage,
    payments: PaymentsDep,
    state: str = "",
    code: str = "",
    realmId: str = "",  # QuickBooks names it so
    error: str = "",
) -> Response:
    if error or not code:
        # The person said no at the provider (error=access_denied), or came back empty.
        return see_other(request, PAGE, flash="The connection was not made.", kind="error")
    try:
        connection = await api.complete(
            payments, signed_in.person, state=state[:200], code=code[:2000], realm_id=realmId[:100]
        )
    except RemoteError as exc:
        return see_other(request, PAGE, flash=refusal(exc).message, kind="error")
    name = api.PROVIDER_NAMES.get(connection.provider, connection.provider)
    where = f": {connection.organisation_name}" if connection.organisation_name else ""
    return see_other(
        request,
        PAGE,
        flash=f"Connected to {name}{where}. New invoices and payments are posted there.",
    )


@router.post(PAGE + "/disconnect")
async def disconnect(request: Request, signed_in: StaffPage, payments: PaymentsDep) -> Response:
    await signed_in_form(request, signed_in)
    try:
        await api.disconnect(payments, signed_in.person)
    except RemoteError as exc:
        return see_other(request, PAGE, flash=refusal(exc).message, kind="error")
    return see_other(
        request, PAGE, flash="Disconnected. Records wait here until you connect again."
    )


@router.post(PAGE + "/records/{sync_id}/retry")
async def retry(
    request: Request, sync_id: UUID, signed_in: StaffPage, payments: PaymentsDep
) -> Response:
    await signed_in_form(request, signed_in)
    try:
        record = await api.retry(payments, signed_in.person, sync_id)
    except RemoteError as exc:
        return see_other(request, PAGE, flash=refusal(exc).message, kind="error")
    return see_other(request, PAGE, flash=f"{record.label} will be posted again shortly.")

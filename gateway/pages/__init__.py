"""The server-rendered portal: Jinja2 pages on the tenant's host."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from gateway.api.fields import refuse_unusable_input
from gateway.csrf import CsrfRefused
from gateway.pages import (
    change_orders,
    console,
    console_accounting,
    console_change_orders,
    console_dispatch,
    console_dispatch_setup,
    console_invoices,
    console_payments,
    console_projects,
    console_settings,
    documents,
    front_door,
    invoice_bank_debits,
    invoices,
    portal,
    projects,
    visit_changes,
    visits,
)
from gateway.pages.rendering import PageRedirect, on_csrf_refused, on_page_redirect

# Form fields are checked as they are read (gateway/pages/forms.py); the rest here.
_CHECKED = [Depends(refuse_unusable_input)]

# The client's portal and the front door.
router = APIRouter(include_in_schema=False, dependencies=_CHECKED)
router.include_router(front_door.router)
router.include_router(portal.router)
router.include_router(documents.router)
router.include_router(projects.router)
router.include_router(change_orders.router)
router.include_router(invoices.router)
router.include_router(invoice_bank_debits.router)
router.include_router(visits.router)
router.include_router(visit_changes.router)

# The staff console: every path under /console, behind its own route gate
# (gateway/route_gates.py), so the client's pages are not matched against it.
console_router = APIRouter(include_in_schema=False, dependencies=_CHECKED)
console_router.include_router(console.router)
console_router.include_router(console_projects.router)
console_router.include_router(console_settings.router)
console_router.include_router(console_accounting.router)
console_router.include_router(console_change_orders.router)
console_router.include_router(console_invoices.router)
console_router.include_router(console_payments.router)
console_router.include_router(console_dispatch.router)
console_router.include_router(console_dispatch_setup.router)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PageRedirect, on_page_redirect)
    app.add_exception_handler(CsrfRefused, on_csrf_refused)

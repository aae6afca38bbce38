"""The server-rendered portal: Jinja2 pages on the tenant's host."""

from __future__ import annotations

from fastapi import Depends, FastAPI

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

# Form fields are checked as they are read (gateway/pages/forms.py); the rest
# here. Each router is included in the app on its own with this dependency (not
# through one parent router: FastAPI matches a request again at every level).
CHECKED = [Depends(refuse_unusable_input)]

# The client's portal and the front door.
routers = (
    front_door.router,
    portal.router,
    documents.router,
    projects.router,
    change_orders.router,
    invoices.router,
    invoice_bank_debits.router,
    visits.router,
    visit_changes.router,
)

# The staff console: every path under /console, behind its own route gate
# (gateway/route_gates.py), so the client's pages are not matched against it.
console_routers = (
    console.router,
    console_projects.router,
    console_settings.router,
    console_accounting.router,
    console_change_orders.router,
    console_invoices.router,
    console_payments.router,
    console_dispatch.router,
    console_dispatch_setup.router,
)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PageRedirect, on_page_redirect)
    app.add_exception_handler(CsrfRefused, on_csrf_refused)

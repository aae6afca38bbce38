"""QuickBooks Online through its Python SDKs: intuit-oauth (`AuthClient`:
the authorize URL, the code exchange, the refresh) and python-quickbooks
(`QuickBooks` and its Customer / Invoice / Payment objects, the v3 API).

Where they point: `environment` is intuit-oauth's own ("production",
"sandbox", or the URL of an OpenID discovery document, which is how tests
reach a local server); `api_base` replaces the v3 API's base URL when set.
Neither SDK sets an HTTP timeout, so every session they open gets one here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import (
    AuthorizationException,
    QuickbooksException,
    SevereException,
    UnsupportedException,
)
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment, PaymentLine

from services.chassis.money import to_decimal
from services.payments.accounting import (
    AuthRefused,
    CustomerDoc,
    Grant,
    InvoiceDoc,
    PaymentDoc,
    Rejected,
    Tokens,
    Transient,
    short,
)

MINOR_VERSION = 75  # the lowest Intuit still serves


def _literal(text: str) -> str:
    """A value inside a QuickBooks query's quotes (its SDK escapes the same way)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _timed(session: requests.Session, seconds: float) -> None:
    session.request = functools.partial(session.request, timeout=seconds)  # type: ignore[method-assign]


def _ref(value: str, name: str = "") -> Ref:
    ref = Ref()
    ref.value, ref.name = value, name
    return ref


class QuickBooksProvider:
    name = "quickbooks"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        environment: str = "production",
        api_base: str = "",
        item_id: str = "1",
        timeout: float = 20.0,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._environment = environment
        self._item_id = item_id
        self._timeout = timeout
        # python-quickbooks picks its base URL from class attributes; a subclass
        # carries ours without touching the SDK's own class.
        self._client_class: type[QuickBooks] = QuickBooks
        if api_base:
            base = api_base.rstrip("/")
            self._client_class = type(
                "PortalQuickBooks", (QuickBooks,), {"api_url_v3": base, "sandbox_api_url_v3": base}
            )

    def _auth(self, redirect_uri: str = "", tokens: Tokens | None = None) -> AuthClient:
        with _errors("reach QuickBooks' sign-in service"):
            auth = AuthClient(
                self._client_id,
                self._client_secret,
                redirect_uri,
                self._environment,
                access_token=tokens.access_token if tokens else None,
                refresh_token=tokens.refresh_token if tokens else None,
            )
        _timed(auth, self._timeout)
        return auth

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        return self._auth(redirect_uri).get_authorization_url(
            [Scopes.ACCOUNTING], state_token=state
        )

    def exchange(self, *, code: str, redirect_uri: str, realm_id: str) -> Grant:
        if not realm_id:
            raise Rejected("QuickBooks did not say which company was connected: connect again")
        auth = self._auth(redirect_uri)
        with _errors("connect to QuickBooks"):
            auth.get_bearer_token(code, realm_id=realm_id)
        tokens = _tokens(auth)
        books = self.books(tokens, realm_id)
        with _errors("read the QuickBooks company"):
            info = CompanyInfo.get(realm_id, qb=books.client)
        return Grant(tokens, realm_id, str(info.CompanyName or ""))

    def refresh(self, tokens: Tokens) -> Tokens:
        auth = self._auth(tokens=tokens)
        with _errors("refresh the QuickBooks connection"):
            auth.refresh(refresh_token=tokens.refresh_token)
        return _tokens(auth)

    def books(self, tokens: Tokens, organisation_id: str) -> QuickBooksBooks:
        return QuickBooksBooks(self, tokens, organisation_id)

    def client(self, tokens: Tokens, realm_id: str) -> QuickBooks:
        auth = self._auth(tokens=tokens)
        client = self._client_class(
            auth_client=auth,
            refresh_token=tokens.refresh_token,
            company_id=realm_id,
            minorversion=MINOR_VERSION,
        )
        _timed(client.session, self._timeout)
        return client

    @property
    def item_id(self) -> str:
        return self._item_id


def _tokens(auth: AuthClient) -> Tokens:
    seconds = int(auth.expires_in or 3600)
    return Tokens(
        access_token=str(auth.access_token),
        refresh_token=str(auth.refresh_token),
        expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
    )


class QuickBooksBooks:
    """One QuickBooks company (realm) for one pass."""

    def __init__(self, provider: QuickBooksProvider, tokens: Tokens, realm_id: str) -> None:
        self.tokens = tokens
        self._provider = provider
        self.client = provider.client(tokens, realm_id)

    def _first(self, entity: Any, where: str) -> Any | None:
        with _errors("look the record up in QuickBooks"):
            found = entity.where(where, max_results=1, qb=self.client)
        return found[0] if found else None

    def post_customer(self, doc: CustomerDoc, *, key: str) -> str:
        # A display name is unique in a QuickBooks company: the integrator's
        # own customer of that name is the one we mean.
        existing = self._first(Customer, f"DisplayName = {_literal(doc.name)}")
        if existing is not None:
            return str(existing.Id)
        customer = Customer()
        customer.DisplayName = doc.name
        customer.CompanyName = doc.name
        customer.Notes = f"Client portal customer {doc.reference}"
        with _errors("create the customer in QuickBooks"):
            return str(customer.save(qb=self.client, request_id=key).Id)

    def post_invoice(self, doc: InvoiceDoc, *, key: str) -> str:
        existing = self._first(Invoice, f"DocNumber = {_literal(doc.number)}")
        if existing is not None:
            return str(existing.Id)
        invoice = Invoice()
        invoice.DocNumber = doc.number
        invoice.TxnDate = doc.issued_on.isoformat()
        invoice.DueDate = doc.due_on.isoformat()
        invoice.CustomerRef = _ref(doc.customer_external_id)
        invoice.CurrencyRef = _ref(doc.currency)
        invoice.PrivateNote = doc.memo
        lines = [(x.description, x.quantity, x.unit_price_minor) for x in doc.lines]
        if doc.tax_minor:
            lines.append((doc.tax_label, 1, doc.tax_minor))
        invoice.Line = [self._line(*line, currency=doc.currency) for line in lines]
        with _errors("create the invoice in QuickBooks"):
            return str(invoice.save(qb=self.client, request_id=key).Id)

    def _line(self, description: str, quantity: int, unit_minor: int, *, currency: str) -> Any:
        line = SalesItemLine()
        line.Description = description
        line.Amount = to_decimal(quantity * unit_minor, currency)
        detail = SalesItemLineDetail()
        detail.Qty = quantity
        detail.UnitPrice = to_decimal(unit_minor, currency)
        detail.ItemRef = _ref(self._provider.item_id)
        line.SalesItemLineDetail = detail
        return line

    def post_payment(self, doc: PaymentDoc, *, key: str) -> str:
        # PaymentRefNum cannot be queried: read the customer's payments and match it.
        with _errors("look the payment up in QuickBooks"):
            theirs = Payment.where(
                f"CustomerRef = {_literal(doc.customer_external_id)}",
                max_results=1000,
                qb=self.client,
            )
        for existing in theirs:
            if existing.PaymentRefNum == doc.reference:
                return str(existing.Id)
        payment = Payment()
        payment.CustomerRef = _ref(doc.customer_external_id)
        payment.CurrencyRef = _ref(doc.currency)
        payment.TotalAmt = to_decimal(doc.amount_minor, doc.currency)
        payment.TxnDate = doc.received_on.isoformat()
        payment.PaymentRefNum = doc.reference
        payment.PrivateNote = f"{doc.method} for {doc.invoice_number}"
        linked = LinkedTxn()
        linked.TxnId, linked.TxnType = doc.invoice_external_id, "Invoice"
        line = PaymentLine()
        line.Amount = payment.TotalAmt
        line.LinkedTxn = [linked]
        payment.Line = [line]
        with _errors("create the payment in QuickBooks"):
            return str(payment.save(qb=self.client, request_id=key).Id)


@contextmanager
def _errors(doing: str) -> Iterator[None]:
    """The SDKs' failures as the port's three kinds. QuickBooks answers 5xx and
    429 without a Fault body, which python-quickbooks reports as code 10000."""
    try:
        yield
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise Transient(
            f"could not {doing}: QuickBooks did not answer ({type(exc).__name__})"
        ) from None
    except AuthClientError as exc:
        if exc.status_code in (400, 401):
            raise AuthRefused(
                f"QuickBooks refused the connection's tokens (HTTP {exc.status_code}): "
                "connect QuickBooks again"
            ) from None
        raise Transient(f"could not {doing}: QuickBooks answered HTTP {exc.status_code}") from None
    except AuthorizationException as exc:
        raise AuthRefused(f"QuickBooks refused the access token: {short(exc.message)}") from None
    except (UnsupportedException, SevereException) as exc:
        raise Transient(f"could not {doing}: {short(exc.message, 200)}") from None
    except QuickbooksException as exc:
        if exc.error_code == 10000 or not exc.error_code:
            raise Transient(f"could not {doing}: {short(exc.message, 200)}") from None
        detail = short(exc.detail or exc.message, 240)
        raise Rejected(f"QuickBooks refused it ({exc.error_code}): {detail}") from None

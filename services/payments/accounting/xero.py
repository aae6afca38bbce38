"""Xero through xero-python: `ApiClient` with its OAuth2 token (which
refreshes itself when the access token has expired), `AccountingApi` for
contacts, invoices and payments, `IdentityApi` for the connected
organisations.

Where they point: `api_base` replaces https://api.xero.com (the accounting
API under /api.xro/2.0 and the connections list), `identity_base`
https://identity.xero.com (the token endpoint, which the SDK's refresh also
uses) and `login_base` https://login.xero.com (the authorize page).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from xero_python.accounting import (
    Account,
    AccountingApi,
    Contact,
    Contacts,
    CurrencyCode,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

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

SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings.read",
)


def _literal(text: str) -> str:
    """A value inside a Xero `where` filter's double quotes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Token(OAuth2Token):
    """The SDK's token, refreshing at our token endpoint instead of its constant."""

    def __init__(self, *, token_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._token_url = token_url

    def fetch_access_token(self, token_api: TokenApi, token_valid_from: float | None = None):
        token_api.refresh_token_url = self._token_url
        return super().fetch_access_token(token_api, token_valid_from)


class XeroProvider:
    name = "xero"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str = "",
        identity_base: str = "",
        login_base: str = "",
        sales_account: str = "200",
        bank_account: str = "090",
        timeout: float = 20.0,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._api_base = (api_base or "https://api.xero.com").rstrip("/")
        self._token_url = (identity_base or "https://identity.xero.com").rstrip(
            "/"
        ) + "/connect/token"
        self._login = (login_base or "https://login.xero.com").rstrip("/")
        self.sales_account = sales_account
        self.bank_account = bank_account
        self.timeout = timeout

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(SCOPES),
                "state": state,
            }
        )
        return f"{self._login}/identity/connect/authorize?{query}"

    def api_client(self, token: dict[str, Any]) -> tuple[ApiClient, dict[str, Any]]:
        """An SDK client whose token lives in the returned dict (refreshes land there)."""
        store = {"token": dict(token)}
        config = Configuration(
            oauth2_token=_Token(
                token_url=self._token_url,
                client_id=self._client_id,
                client_secret=self._client_secret,
            )
        )
        client = ApiClient(
            config,
            oauth2_token_getter=lambda: store["token"],
            oauth2_token_saver=lambda new: store.update(token=new),
        )
        return client, store

    def exchange(self, *, code: str, redirect_uri: str, realm_id: str) -> Grant:
        client, store = self.api_client(_sdk_token(None))
        with _errors("connect to Xero", grant=True):
            # The SDK refreshes but has no code exchange; the same call, another grant.
            response, _, _ = client.call_api(
                self._token_url,
                "POST",
                header_params={
                    "Accept": "application/json",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                post_params={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
                auth_settings=None,
                _preload_content=False,
                _request_timeout=self.timeout,
            )
            answer = json.loads(response.data.decode())
        tokens = _tokens(answer)
        store["token"] = _sdk_token(tokens)
        with _errors("read the connected Xero organisation"):
            connections = IdentityApi(client, base_url=self._api_base).get_connections(
                _request_timeout=self.timeout
            )
        organisations = [c for c in connections if c.tenant_type == "ORGANISATION"]
        if not organisations:
            raise Rejected("Xero connected no organisation: connect again and choose one")
        # The organisation just authorised is the most recently updated connection.
        newest = max(organisations, key=lambda c: c.updated_date_utc or datetime.min)
        return Grant(tokens, str(newest.tenant_id), str(newest.tenant_name or ""))

    def refresh(self, tokens: Tokens) -> Tokens:
        client, store = self.api_client(_sdk_token(tokens))
        with _errors("refresh the Xero connection", grant=True):
            client.refresh_oauth2_token()
        return _tokens(store["token"])

    def books(self, tokens: Tokens, organisation_id: str) -> XeroBooks:
        return XeroBooks(self, tokens, organisation_id, self._api_base + "/api.xro/2.0")


def _sdk_token(tokens: Tokens | None) -> dict[str, Any]:
    """Our tokens in the shape xero-python's OAuth2Token takes."""
    return {
        "access_token": tokens.access_token if tokens else None,
        "refresh_token": tokens.refresh_token if tokens else None,
        "expires_at": tokens.expires_at.timestamp() if tokens else None,
        "expires_in": None,
        "token_type": "Bearer",
        "scope": list(SCOPES),
    }


def _tokens(answer: dict[str, Any]) -> Tokens:
    expires_at = answer.get("expires_at")
    if expires_at is None:
        expires_at = datetime.now(UTC).timestamp() + float(answer.get("expires_in") or 1800)
    return Tokens(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer.get("refresh_token") or ""),
        expires_at=datetime.fromtimestamp(float(expires_at), UTC),
    )


class XeroBooks:
    """One Xero organisation (a Xero tenant) for one pass."""

    def __init__(self, provider: XeroProvider, tokens: Tokens, tenant: str, base_url: str) -> None:
        self._provider = provider
        self._tenant = tenant
        client, self._store = provider.api_client(_sdk_token(tokens))
        self._api = AccountingApi(client, base_url=base_url)

    @property
    def tokens(self) -> Tokens:
        return _tokens(self._store["token"])

    def post_customer(self, doc: CustomerDoc, *, key: str) -> str:
        # ContactNumber is Xero's field for another system's id: ours.
        with _errors("look the contact up in Xero"):
            found = self._api.get_contacts(
                self._tenant,
                where=f"ContactNumber=={_literal(doc.reference)}",
                _request_timeout=self._provider.timeout,
            ).contacts
        if found:
            return str(found[0].contact_id)
        contact = Contact(name=doc.name, contact_number=doc.reference)
        with _errors("create the contact in Xero"):
            made = self._api.create_contacts(
                self._tenant,
                Contacts(contacts=[contact]),
                summarize_errors=True,
                idempotency_key=key,
                _request_timeout=self._provider.timeout,
            )
        return str(made.contacts[0].contact_id)

    def post_invoice(self, doc: InvoiceDoc, *, key: str) -> str:
        with _errors("look the invoice up in Xero"):
            found = self._api.get_invoices(
                self._tenant, invoice_numbers=[doc.number], _request_timeout=self._provider.timeout
            ).invoices
        if found:
            return str(found[0].invoice_id)
        lines = [(x.description, x.quantity, x.unit_price_minor) for x in doc.lines]
        if doc.tax_minor:
            lines.append((doc.tax_label, 1, doc.tax_minor))
        try:
            currency = CurrencyCode(doc.currency)
        except ValueError:
            raise Rejected(f"Xero does not take invoices in {doc.currency}") from None
        invoice = Invoice(
            type="ACCREC",
            contact=Contact(contact_id=doc.customer_external_id),
            invoice_number=doc.number,
            reference=doc.memo[:255],
            date=doc.issued_on,
            due_date=doc.due_on,
            currency_code=currency,
            line_amount_types=LineAmountTypes.NOTAX,
            status="AUTHORISED",
            line_items=[
                LineItem(
                    description=description,
                    quantity=quantity,
                    unit_amount=to_decimal(unit_minor, doc.currency),
                    account_code=self._provider.sales_account,
                )
                for description, quantity, unit_minor in lines
            ],
        )
        with _errors("create the invoice in Xero"):
            made = self._api.create_invoices(
                self._tenant,
                Invoices(invoices=[invoice]),
                summarize_errors=True,
                idempotency_key=key,
                _request_timeout=self._provider.timeout,
            )
        return str(made.invoices[0].invoice_id)

    def post_payment(self, doc: PaymentDoc, *, key: str) -> str:
        with _errors("look the payment up in Xero"):
            found = self._api.get_payments(
                self._tenant,
                where=f"Reference=={_literal(doc.reference)}",
                _request_timeout=self._provider.timeout,
            ).payments
        if found:
            return str(found[0].payment_id)
        payment = Payment(
            invoice=Invoice(invoice_id=doc.invoice_external_id),
            account=Account(code=self._provider.bank_account),
            amount=to_decimal(doc.amount_minor, doc.currency),
            date=doc.received_on,
            reference=doc.reference,
        )
        with _errors("create the payment in Xero"):
            made = self._api.create_payment(
                self._tenant, payment, idempotency_key=key, _request_timeout=self._provider.timeout
            )
        return str(made.payments[0].payment_id)


def _problem(exc: ApiException) -> str:
    """Xero's own words for a refused record (a validation error), trimmed."""
    try:
        body = json.loads(exc.body or b"{}")
    except (ValueError, TypeError):
        return f"HTTP {exc.status}"
    errors = [
        e.get("Message", "")
        for element in body.get("Elements", [])
        for e in element.get("ValidationErrors", [])
    ]
    return short("; ".join(errors) or body.get("Message") or body.get("Detail") or exc.status)


@contextmanager
def _errors(doing: str, *, grant: bool = False) -> Iterator[None]:
    """The SDK's failures as the port's three kinds. A token call (`grant`)
    answers 400 for a code or refresh token that is spent or revoked."""
    try:
        yield
    except urllib3.exceptions.HTTPError as exc:
        raise Transient(f"could not {doing}: Xero did not answer ({type(exc).__name__})") from None
    except ApiException as exc:
        status = exc.status or 0
        if status in (401, 403) or (grant and status == 400):
            raise AuthRefused(
                f"Xero refused the connection's tokens (HTTP {status}): connect Xero again"
            ) from None
        if status == 429 or status >= 500 or status == 0:
            raise Transient(f"could not {doing}: Xero answered HTTP {status}") from None
        raise Rejected(f"Xero refused it (HTTP {status}): {_problem(exc)}") from None

from __future__ import annotations

from pydantic import model_validator

from services.chassis.sealing import MasterKeys
from services.chassis.settings import ServiceSettings, service_config
from services.payments.accounting import Provider
from services.payments.domain_sync import RetryPolicy
from services.payments.service.accounting import Accounting
from services.payments.stripe_gateway import StripeGateway


class PaymentsSettings(ServiceSettings):
    model_config = service_config("PAYMENTS_")

    # Stripe: the platform's secret key (direct charges on each integrator's
    # connected account via Stripe-Account) and the webhook endpoint's secret.
    # Offline, localstripe's URL as the API base.
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    # Where invoice and receipt PDFs are filed (payments calls documents); required.
    documents_target: str = ""
    # Tenants' portals live at <slug>.<portal_base_domain> (the gateway's
    # GATEWAY_BASE_DOMAIN): each such host is registered with Stripe as a
    # payment-method domain. Empty: none is.
    portal_base_domain: str = ""
    domain_retry_seconds: float = 60.0  # backoff base after Stripe failed; capped at an hour

    # Accounting: a provider is offered once its app's client id is set. Its
    # tokens are sealed under these keys (the chassis key ring: JSON
    # {key_id: base64 of 32 bytes} and the active id), required with a provider.
    master_keys: str = ""
    active_key_id: str = ""
    quickbooks_client_id: str = ""
    quickbooks_client_secret: str = ""
    # intuit-oauth's environment: production, sandbox, or a discovery document's URL.
    quickbooks_environment: str = "production"
    quickbooks_api_base: str = ""  # empty: the SDK's own v3 URL
    quickbooks_item_id: str = "1"  # the item invoice lines are sold as ("Services")
    xero_client_id: str = ""
    xero_client_secret: str = ""
    xero_api_base: str = ""  # empty: https://api.xero.com
    xero_identity_base: str = ""  # empty: https://identity.xero.com
    xero_login_base: str = ""  # empty: https://login.xero.com
    xero_sales_account: str = "200"  # the revenue account code lines post to
    xero_bank_account: str = "090"  # the bank account code payments land in
    # The sync job: woken by NOTIFY payments_sync, else every this many seconds.
    sync_interval_seconds: float = 5.0
    sync_max_attempts: int = 8
    sync_backoff_seconds: float = 30.0
    sync_backoff_cap_seconds: float = 3600.0
    accounting_timeout_seconds: float = 20.0

    @model_validator(mode="after")
    def _refuse_providers_without_keys(self) -> PaymentsSettings:
        for name in ("quickbooks", "xero"):
            if getattr(self, f"{name}_client_id") and not getattr(self, f"{name}_client_secret"):
                raise ValueError(
                    f"PAYMENTS_{name.upper()}_CLIENT_SECRET is required with its client id"
                )
        if (self.quickbooks_client_id or self.xero_client_id) and (
            not self.master_keys or not self.active_key_id
        ):
            raise ValueError(
                "PAYMENTS_MASTER_KEYS and PAYMENTS_ACTIVE_KEY_ID are required once an "
                "accounting provider is configured (its tokens are sealed under them)"
            )
        if self.master_keys:
            self.keys()  # parse now: a bad key refuses to start
        return self

    def keys(self) -> MasterKeys:
        return MasterKeys.parse(self.master_keys, self.active_key_id)


def stripe_gateway(settings: PaymentsSettings) -> StripeGateway | None:
    """None without a key: invoices and offline payments work, pay-now says it is off."""
    if not settings.stripe_api_key:
        return None
    return StripeGateway(
        api_key=settings.stripe_api_key,
        webhook_secret=settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
    )


def accounting_providers(settings: PaymentsSettings) -> dict[str, Provider]:
    """The providers this server can connect, each with its app's credentials."""
    # Imported here: each SDK is loaded only where it is configured.
    providers: dict[str, Provider] = {}
    timeout = settings.accounting_timeout_seconds
    if settings.quickbooks_client_id:
        from services.payments.accounting.quickbooks import QuickBooksProvider

        providers["quickbooks"] = QuickBooksProvider(
            client_id=settings.quickbooks_client_id,
            client_secret=settings.quickbooks_client_secret,
            environment=settings.quickbooks_environment,
            api_base=settings.quickbooks_api_base,
            item_id=settings.quickbooks_item_id,
            timeout=timeout,
        )
    if settings.xero_client_id:
        from services.payments.accounting.xero import XeroProvider

        providers["xero"] = XeroProvider(
            client_id=settings.xero_client_id,
            client_secret=settings.xero_client_secret,
            api_base=settings.xero_api_base,
            identity_base=settings.xero_identity_base,
            login_base=settings.xero_login_base,
            sales_account=settings.xero_sales_account,
            bank_account=settings.xero_bank_account,
            timeout=timeout,
        )
    return providers


def accounting(settings: PaymentsSettings) -> Accounting:
    """The providers, the sealing keys and the retry policy, for the servicer and the job."""
    return Accounting(
        providers=accounting_providers(settings),
        keys=settings.keys() if settings.master_keys else None,
        policy=RetryPolicy(
            max_attempts=settings.sync_max_attempts,
            base_seconds=settings.sync_backoff_seconds,
            cap_seconds=settings.sync_backoff_cap_seconds,
        ),
    )

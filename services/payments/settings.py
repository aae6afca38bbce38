from services.chassis.settings import ServiceSettings, service_config
from services.payments.stripe_gateway import StripeGateway


class PaymentsSettings(ServiceSettings):
    model_config = service_config("PAYMENTS_")

    # Stripe: the platform's secret key (direct charges on each integrator's
    # connected account via Stripe-Account) and the webhook endpoint's secret.
    # Offline, localstripe's URL as the API base.
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""


def stripe_gateway(settings: PaymentsSettings) -> StripeGateway | None:
    """None without a key: invoices and offline payments work, pay-now says it is off."""
    if not settings.stripe_api_key:
        return None
    return StripeGateway(
        api_key=settings.stripe_api_key,
        webhook_secret=settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
    )

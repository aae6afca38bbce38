from services.chassis.settings import ServiceSettings, service_config


class PaymentsSettings(ServiceSettings):
    model_config = service_config("PAYMENTS_")

    # Stripe: the platform's secret key (direct charges on each integrator's
    # connected account via Stripe-Account) and the webhook endpoint's secret.
    # Offline, localstripe's URL as the API base.
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""

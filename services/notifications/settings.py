from services.chassis.settings import ServiceSettings, service_config


class NotificationsSettings(ServiceSettings):
    model_config = service_config("NOTIFICATIONS_")

    # Brands and contacts come from identity (notifications calls identity); required.
    identity_target: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "portal@localhost"
    # Links in emails: {slug} is replaced by the tenant's subdomain.
    portal_url_template: str = "http://{slug}.localhost:8000"
    mail_max_attempts: int = 8
    # Documents shared with a client are told in one email once sharing has
    # been quiet this long (ten ticked at once make one email).
    share_digest_quiet_seconds: float = 60.0
    share_digest_interval_seconds: float = 5.0

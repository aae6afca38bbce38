from services.chassis.settings import ServiceSettings, service_config


class NotificationsSettings(ServiceSettings):
    model_config = service_config("NOTIFICATIONS_")

    # Brands and contacts come from identity (notifications calls identity); required.
    identity_target: str = ""
    # Brands, staff and contacts are kept until identity's event says they
    # changed, and at most this long (an event missed, another replica's).
    identity_cache_seconds: float = 60.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # SMTP connections are kept open between emails (up to MAIL_PARALLEL) and
    # closed after this long unused: under most servers' own idle timeout.
    smtp_idle_seconds: float = 30.0
    mail_from: str = "portal@localhost"
    # Links in emails: {slug} is replaced by the tenant's subdomain.
    portal_url_template: str = "http://{slug}.localhost:8000"
    # Transient failures (SMTP down, 4xx) are retried this often, holding back
    # later mail to the same recipient about the same project; permanent ones
    # (5xx for the recipient or content, a bad address) this often, holding
    # back nothing. Then the email is `failed`.
    mail_max_attempts: int = 8
    mail_max_permanent_attempts: int = 3
    mail_retry_seconds: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200)
    # Mail waits until its event is this old, so that mail for an earlier event
    # still on its way (another consumer, a retried handler) can go first.
    mail_hold_seconds: float = 1.0
    # Emails to different recipients or projects sent at once, per replica.
    mail_parallel: int = 8
    # Documents shared with a client are told in one email once sharing has
    # been quiet this long (ten ticked at once make one email).
    share_digest_quiet_seconds: float = 60.0
    share_digest_interval_seconds: float = 5.0

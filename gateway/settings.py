"""The gateway's settings, from GATEWAY_* environment variables."""

from __future__ import annotations

import hashlib
import hmac
from functools import cached_property
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "GATEWAY_"
_REQUIRED = ("identity_target", "projects_target", "notifications_target", "principal_private_key")


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    environment: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = 8000
    # Tenants live at <slug>.<base_domain>; browsers resolve *.localhost to loopback.
    base_domain: str = "localhost"
    # gRPC targets, host:port.
    identity_target: str = ""
    projects_target: str = ""
    notifications_target: str = ""
    # Optional: without it the document routes answer 503 "documents are not available".
    documents_target: str = ""
    # Optional: without it invoices and payments answer 503 "payments are not available".
    payments_target: str = ""
    # Optional: without it bookings and the dispatch calendar answer 503.
    bookings_target: str = ""
    # Optional: without it the change-order routes answer 503 "change orders are not available".
    changeorders_target: str = ""
    # Ed25519 PEM that signs the principal tokens the services verify.
    principal_private_key: str = ""
    tenant_cache_seconds: float = 30.0
    # NATS, to hear identity's events. Without it, sessions and API tokens are
    # asked of identity on every request (nothing is cached without invalidation).
    nats_url: str = ""
    # How long identity's answer for a session or API token is kept: the bound
    # on how late a revocation can take effect if its event is lost (0: off).
    auth_cache_seconds: float = 5.0
    # Deadline for each gRPC call.
    rpc_timeout_seconds: float = 5.0
    # The largest file any integrator may upload: documents' ceiling
    # (DOCUMENTS_MAX_UPLOAD_BYTES); keep the two equal. The edge refuses an upload
    # body past it (plus room for the form's fields) before reading it.
    max_upload_bytes: int = 200 * 1024 * 1024
    # Deadline for a whole upload or download stream (file bytes through the gateway).
    stream_timeout_seconds: float = 600.0
    # Link to the dev SMTP sink's page, mentioned in the API docs and on the
    # sign-in page outside prod.
    dev_mail_url: str | None = None
    # HMAC key for CSRF tokens and flash cookies. Required in prod; in dev and
    # test a stable one is derived from the principal key.
    csrf_key: str = ""
    # The platform operator's bearer token for /api/v1/platform/... on the bare
    # base domain (onboarding integrators). Unset: those routes answer 404.
    platform_token: str = ""
    # Stripe.js, loaded by the pay page only (its CSP names this origin). Offline:
    # localstripe's stand-in, http://127.0.0.1:<port>/js.stripe.com/v3/.
    stripe_js_url: str = "https://js.stripe.com/v3/"
    log_level: str = "INFO"
    # Whether a template edited on disk is read again (each render stats every
    # template it uses). Unset: in development only. The bench sets it off, to
    # measure pages as a deployed gateway serves them.
    reload_templates: bool | None = None

    @property
    def templates_reload(self) -> bool:
        if self.reload_templates is None:
            return self.environment == "dev"
        return self.reload_templates

    @property
    def is_dev(self) -> bool:
        return self.environment in ("dev", "test")

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies everywhere but dev and test, which run on plain http."""
        return not self.is_dev

    @property
    def session_cookie(self) -> str:
        # __Host-: the browser insists on Secure, Path=/ and no Domain, so no
        # sibling subdomain (another tenant) can plant or overwrite it.
        return "__Host-portal_session" if self.cookie_secure else "portal_session"

    @property
    def csrf_cookie(self) -> str:
        return "__Host-portal_csrf" if self.cookie_secure else "portal_csrf"

    @cached_property
    def csrf_secret(self) -> bytes:
        """Derived once: every signed-in request checks or makes a token with it."""
        if self.csrf_key:
            return self.csrf_key.encode()
        return hmac.new(
            b"portal-gateway-csrf", self.principal_private_key.encode(), hashlib.sha256
        ).digest()

    @field_validator("base_domain")
    @classmethod
    def _normalise_domain(cls, value: str) -> str:
        domain = value.strip().strip(".").lower()
        if not domain:
            raise ValueError(f"{ENV_PREFIX}BASE_DOMAIN must name a domain, e.g. portal.example.com")
        return domain

    @model_validator(mode="after")
    def _refuse_missing_values(self) -> GatewaySettings:
        missing = [ENV_PREFIX + name.upper() for name in _REQUIRED if not getattr(self, name)]
        if missing:
            raise ValueError(f"the gateway needs these settings: {', '.join(missing)}")
        # Fail at start, not on the first request that signs a token.
        try:
            key = serialization.load_pem_private_key(self.principal_private_key.encode(), None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{ENV_PREFIX}PRINCIPAL_PRIVATE_KEY is not a PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{ENV_PREFIX}PRINCIPAL_PRIVATE_KEY must be an Ed25519 key")
        if not self.is_dev and self.platform_token and len(self.platform_token) < 32:
            raise ValueError(
                f"{ENV_PREFIX}PLATFORM_TOKEN must be 32 or more random characters outside dev "
                "and test (or unset, which turns the platform API off)"
            )
        if not self.is_dev and len(self.csrf_key) < 32:
            raise ValueError(
                f"{ENV_PREFIX}CSRF_KEY is required outside dev and test: 32 or more random "
                "characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return self

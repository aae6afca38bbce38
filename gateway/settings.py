"""The gateway's settings, from GATEWAY_* environment variables."""

from __future__ import annotations

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
    # Ed25519 PEM that signs the principal tokens the services verify.
    principal_private_key: str = ""
    tenant_cache_seconds: float = 30.0
    # Deadline for each gRPC call.
    rpc_timeout_seconds: float = 5.0
    # Link to the dev SMTP sink's page, mentioned in the API docs outside prod.
    dev_mail_url: str | None = None
    log_level: str = "INFO"

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
        return self

"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "prod"]
Role = Literal["all", "grpc", "relay", "consumer", "jobs"]


class ServiceSettings(BaseSettings):
    """Subclass with `model_config = service_config("PROJECTS_")`."""

    model_config = SettingsConfigDict(extra="ignore")

    environment: Environment = "dev"
    database_url: str = ""
    nats_url: str = "nats://127.0.0.1:4222"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 0
    # Which parts this process runs (see chassis.runtime); "all" is the default.
    role: Role = "all"
    # Ed25519 PEM keys for principal tokens. Verifying needs the public key;
    # services that call other services also sign, and need the private key.
    principal_public_key: str = ""
    principal_private_key: str = ""
    db_pool_size: int = 5
    log_level: str = "INFO"
    # Consumer retry policy: attempts, then a dead-letter record. The default
    # rides out a dependency being down for about ten minutes.
    consumer_max_deliver: int = 10
    consumer_backoff_seconds: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
    consumer_ack_wait_seconds: float = 30.0

    @model_validator(mode="after")
    def _refuse_missing_secrets(self) -> ServiceSettings:
        if not self.database_url:
            raise ValueError("database_url is required (e.g. PROJECTS_DATABASE_URL)")
        if not self.principal_public_key:
            raise ValueError("principal_public_key is required to verify callers")
        return self


def service_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore")

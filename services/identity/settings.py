from __future__ import annotations

from pydantic import model_validator

from services.chassis.sealing import MasterKeys
from services.chassis.settings import ServiceSettings, service_config


class IdentitySettings(ServiceSettings):
    model_config = service_config("IDENTITY_")

    # argon2id for passwords; the defaults are the OWASP/ASVS floor (19 MiB, t=2, p=1).
    # Raising them is safe: existing hashes are upgraded at the next sign-in.
    argon2_time_cost: int = 2
    argon2_memory_cost: int = 19456  # KiB
    argon2_parallelism: int = 1
    # How often the job purges customers deleted more than 30 days ago and prunes
    # throttling records, expired sessions and spent links.
    purge_interval_seconds: float = 3600.0
    # Uploaded logos and splash images are sealed under these (the chassis key
    # ring, as documents' blobs): JSON {key_id: base64 of 32 bytes}, the active id.
    master_keys: str = ""
    active_key_id: str = ""

    @model_validator(mode="after")
    def _refuse_missing_keys(self) -> IdentitySettings:
        if not self.master_keys or not self.active_key_id:
            raise ValueError("IDENTITY_MASTER_KEYS and IDENTITY_ACTIVE_KEY_ID are required")
        self.keys()  # parse now: a bad key refuses to start
        return self

    def keys(self) -> MasterKeys:
        return MasterKeys.parse(self.master_keys, self.active_key_id)

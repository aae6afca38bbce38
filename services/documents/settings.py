from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from services.chassis.sealing import MasterKeys
from services.chassis.settings import ServiceSettings, service_config


class DocumentsSettings(ServiceSettings):
    model_config = service_config("DOCUMENTS_")

    storage: Literal["local", "s3"] = "local"
    # Local blobs: a directory outside any web root.
    blob_dir: str = ".data/blobs"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""
    # JSON {key_id: base64 of 32 bytes}; data keys are wrapped under the active one.
    master_keys: str = ""
    active_key_id: str = ""
    # HMAC key for download-link tokens.
    link_secret: str = ""
    link_ttl_seconds: int = 300
    max_upload_bytes: int = 200 * 1024 * 1024

    @model_validator(mode="after")
    def _refuse_missing_keys(self) -> DocumentsSettings:
        if not self.master_keys or not self.active_key_id:
            raise ValueError("DOCUMENTS_MASTER_KEYS and DOCUMENTS_ACTIVE_KEY_ID are required")
        if len(self.link_secret) < 32:
            raise ValueError("DOCUMENTS_LINK_SECRET is required (at least 32 characters)")
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("DOCUMENTS_S3_BUCKET is required with DOCUMENTS_STORAGE=s3")
        self.keys()  # parse now: a bad key refuses to start
        return self

    def keys(self) -> MasterKeys:
        return MasterKeys.parse(self.master_keys, self.active_key_id)

"""The secrets a suite data directory keeps: generated once, mode 0600, and
read back on every later start so a restarted `make run` keeps its sessions,
sealed blobs and webhook signatures valid.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

from services.chassis.auth import generate_keypair


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def _once_text(path: Path, make: str) -> str:
    if not path.exists():
        _write_private(path, make)
    return path.read_text().strip()


def principal_keys(data: Path) -> tuple[str, str]:
    """The Ed25519 pair principals are signed with (private, public)."""
    path = data / "principal-key.json"
    if path.exists():
        keys = json.loads(path.read_text())
        return keys["private"], keys["public"]
    private, public = generate_keypair()
    _write_private(path, json.dumps({"private": private, "public": public}))
    return private, public


def platform_token(data: Path) -> str:
    """The platform operator's token for this data dir."""
    return _once_text(data / "platform-token", "plt_" + secrets.token_urlsafe(32))


def stripe_webhook_secret(data: Path) -> str:
    return _once_text(data / "stripe-webhook-secret", "whsec_" + secrets.token_urlsafe(32))


def documents_keys(data: Path) -> dict[str, Any]:
    """Documents' master keys and link secret.
    `portal documents rotate-key` adds a key here and makes it active."""
    path = data / "documents-keys.json"
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    keys = {**new_master_keys(), "link_secret": secrets.token_urlsafe(48)}
    _write_private(path, json.dumps(keys))
    return keys


def master_keys(data: Path, service: str) -> dict[str, Any]:
    """The master keys a service seals its secrets under (identity: uploaded
    brand images; payments: accounting tokens), in `<service>-keys.json`."""
    path = data / f"{service}-keys.json"
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    keys = new_master_keys()
    _write_private(path, json.dumps(keys))
    return keys


def db_passwords(data: Path, services: tuple[str, ...]) -> dict[str, str]:
    """One database password per service; a service added later gets its own."""
    path = data / "db-passwords.json"
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for name in services:
        known.setdefault(name, secrets.token_urlsafe(24))
    _write_private(path, json.dumps(known))
    return known


def new_master_keys() -> dict[str, Any]:
    return {
        "master_keys": {"k1": base64.b64encode(secrets.token_bytes(32)).decode()},
        "active_key_id": "k1",
    }

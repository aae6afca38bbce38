"""The localstripe launcher: a stateful Stripe emulator (PaymentIntents,
PaymentMethods, refunds, signed webhooks to registered endpoints, a Stripe.js
stand-in at /js.stripe.com/v3/), so pay-now runs offline against the real
Stripe SDK."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import httpx

from deploy.infra.process import _ManagedProcess, free_port


class Localstripe(_ManagedProcess):
    name = "localstripe"

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        super().__init__(Path(log_path))
        # localstripe binds every address; free_port checks them all.
        self.port = port or free_port("127.0.0.1")

    def start(self, timeout: float = 20) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        binary = Path(sys.executable).parent / "localstripe"
        self._spawn([str(binary), "--port", str(self.port), "--from-scratch"])
        self._wait_ready(self._is_ready, timeout)

    def stop(self, timeout: float = 10) -> None:
        self._terminate(signal.SIGTERM, timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def register_webhook(self, webhook_id: str, url: str, secret: str) -> None:
        """localstripe's own config endpoint: events are POSTed to `url`,
        signed with `secret` exactly as Stripe signs them."""
        answer = httpx.post(
            f"{self.url}/_config/webhooks/{webhook_id}",
            json={"url": url, "secret": secret},
            timeout=5,
            trust_env=False,  # a loopback address: no proxy
        )
        answer.raise_for_status()

    def _is_ready(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

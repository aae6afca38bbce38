"""The whole suite on one machine: infrastructure, every service as its own
process, the gateway. Used by `make run` (deploy/cli.py) and by the e2e tests.

Children run in their own sessions (Ctrl-C reaches only us, and we stop them
in order) and get SIGTERM if we die (PR_SET_PDEATHSIG), so nothing is
orphaned. Each child's output is prefixed with its name.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from deploy import books_sandbox, suite_secrets
from deploy.infra import Nats, Postgres, free_port
from deploy.suite_process import Child, grpc_serving, has_localstripe, http_ok
from services.chassis.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
# Where `make run` keeps its data, and the facts it prints (read by `portal` commands).
DATA_DIR = ROOT / ".data"
DEV_JSON = "dev.json"
SERVICES = (
    "identity",
    "projects",
    "notifications",
    "documents",
    "payments",
    "bookings",
    "changeorders",
)
# Documents' ceiling for any integrator's uploads; the gateway caps upload bodies at it.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
# localstripe accepts any sk_test_ key; the seed and the tests use this one.
LOCALSTRIPE_KEY = "sk_test_portal_localstripe"


@dataclass
class SuiteOptions:
    data_dir: Path
    gateway_port: int | None = None
    base_domain: str = "localhost"
    # Where children's prefixed output goes; None means our stdout.
    log_file: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres_settings: dict[str, str] = field(default_factory=dict)
    with_localstripe: bool = True


class Suite:
    def __init__(self, options: SuiteOptions) -> None:
        self.opts = options
        self.data = options.data_dir
        self.data.mkdir(parents=True, exist_ok=True)
        self.postgres = Postgres(self.data / "postgres", settings=options.postgres_settings or None)
        self.nats = Nats(self.data / "nats")
        self.children: dict[str, Child] = {}
        self.ports: dict[str, int] = {}
        self.database_urls: dict[str, str] = {}
        self._out: IO[str] = (
            open(options.log_file, "a", buffering=1)  # noqa: SIM115 - closed in stop()
            if options.log_file
            else sys.stdout
        )
        self._lock = threading.Lock()
        self.private_key, self.public_key = suite_secrets.principal_keys(self.data)
        self.platform_token = suite_secrets.platform_token(self.data)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        try:
            self.postgres.start()
            self.nats.start()
            secrets_file = suite_secrets.db_passwords(self.data, SERVICES)
            for name in SERVICES:
                url = self.postgres.ensure_service_database(name, secrets_file[name])
                self.database_urls[name] = url
                upgrade(name, url)
            self._plan_children()
            for name in ("smtp", "localstripe", "books", *SERVICES, "gateway"):
                if name in self.children:
                    self.start_child(name)
            self.wait_ready()
            if "localstripe" in self.children:
                self._register_stripe_webhook()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for name in reversed(list(self.children)):
            self.stop_child(name)
        self.nats.stop()
        self.postgres.stop()
        if self._out is not sys.stdout:
            with contextlib.suppress(Exception):
                self._out.close()

    def __enter__(self) -> Suite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- children ----------------------------------------------------------

    def _plan_children(self) -> None:
        for name in ("smtp", "smtp_web", "stripe", "gateway", *SERVICES):
            self.ports.setdefault(name, free_port())
        if self.opts.gateway_port:
            self.ports["gateway"] = self.opts.gateway_port
        base = {
            "PYTHONUNBUFFERED": "1",
            "PATH": os.environ.get("PATH", ""),
            **self.opts.extra_env,
        }
        py = sys.executable
        self.children["smtp"] = Child(
            "smtp",
            [
                py,
                "-m",
                "deploy.smtp_sink",
                "--smtp-port",
                str(self.ports["smtp"]),
                "--http-port",
                str(self.ports["smtp_web"]),
            ],
            dict(base),
        )
        if self.opts.with_localstripe and has_localstripe():
            self.children["localstripe"] = Child(
                "localstripe",
                # From scratch: localstripe otherwise reloads /tmp/localstripe.pickle,
                # which every localstripe on the machine writes.
                [
                    str(Path(py).parent / "localstripe"),
                    "--port",
                    str(self.ports["stripe"]),
                    "--from-scratch",
                ],
                dict(base),
            )
        # The local accounting sandbox (deploy/books_sandbox.py), as localstripe plays Stripe.
        self.ports["books"] = self.ports.get("books") or free_port()
        argv = [py, "-m", "deploy.books_sandbox", "--port", str(self.ports["books"])]
        self.children["books"] = Child("books", argv, dict(base))
        for name in SERVICES:
            self.children[name] = Child(
                name, [py, "-m", f"services.{name}"], {**base, **self.service_env(name)}
            )
        self.children["gateway"] = Child(
            "gateway", [py, "-m", "gateway"], {**base, **self.gateway_env()}
        )

    def service_env(self, name: str) -> dict[str, str]:
        p = name.upper() + "_"
        env = {
            p + "ENVIRONMENT": "dev",
            p + "DATABASE_URL": self.database_urls[name],
            p + "NATS_URL": self.nats.url,
            p + "GRPC_PORT": str(self.ports[name]),
            p + "PRINCIPAL_PUBLIC_KEY": self.public_key,
        }
        # What the service declares it calls: a target each, and the key it signs with.
        calls = importlib.import_module(f"services.{name}.__main__").SPEC.calls
        for called in calls:
            env[f"{p}{called.upper()}_TARGET"] = self.target(called)
        if calls:
            env[p + "PRINCIPAL_PRIVATE_KEY"] = self.private_key
        if name == "notifications":
            env |= {
                p + "SMTP_PORT": str(self.ports["smtp"]),
                p + "PORTAL_URL_TEMPLATE": f"{self.scheme_host('{slug}')}",
            }
        if name == "payments":
            env[p + "PORTAL_BASE_DOMAIN"] = self.opts.base_domain
            env |= books_sandbox.payments_env(self.books_url)
        if name == "payments" and "localstripe" in self.children:
            env |= {
                p + "STRIPE_API_KEY": LOCALSTRIPE_KEY,
                p + "STRIPE_API_BASE": self.stripe_url,
                p + "STRIPE_WEBHOOK_SECRET": suite_secrets.stripe_webhook_secret(self.data),
            }
        if name in ("identity", "payments"):
            keys = suite_secrets.master_keys(self.data, name)
            env |= {
                p + "MASTER_KEYS": json.dumps(keys["master_keys"]),
                p + "ACTIVE_KEY_ID": keys["active_key_id"],
            }
        if name == "documents":
            keys = suite_secrets.documents_keys(self.data)
            env |= {
                p + "BLOB_DIR": str(self.data / "blobs"),
                p + "MASTER_KEYS": json.dumps(keys["master_keys"]),
                p + "ACTIVE_KEY_ID": keys["active_key_id"],
                p + "LINK_SECRET": keys["link_secret"],
                p + "MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
            }
        return env

    def gateway_env(self) -> dict[str, str]:
        return {
            "GATEWAY_ENVIRONMENT": "dev",
            "GATEWAY_PORT": str(self.ports["gateway"]),
            "GATEWAY_BASE_DOMAIN": self.opts.base_domain,
            "GATEWAY_IDENTITY_TARGET": self.target("identity"),
            "GATEWAY_PROJECTS_TARGET": self.target("projects"),
            "GATEWAY_NOTIFICATIONS_TARGET": self.target("notifications"),
            "GATEWAY_DOCUMENTS_TARGET": self.target("documents"),
            "GATEWAY_PAYMENTS_TARGET": self.target("payments"),
            "GATEWAY_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
            "GATEWAY_BOOKINGS_TARGET": self.target("bookings"),
            "GATEWAY_CHANGEORDERS_TARGET": self.target("changeorders"),
            "GATEWAY_PRINCIPAL_PRIVATE_KEY": self.private_key,
            "GATEWAY_DEV_MAIL_URL": self.mail_url,
            # Identity's events keep the gateway's credential cache honest.
            "GATEWAY_NATS_URL": self.nats.url,
            # The platform API (onboarding) on the bare base domain.
            "GATEWAY_PLATFORM_TOKEN": self.platform_token,
            # The pay page loads localstripe's Stripe.js stand-in instead of Stripe's.
            **(
                {"GATEWAY_STRIPE_JS_URL": f"{self.stripe_url}/js.stripe.com/v3/"}
                if "localstripe" in self.children
                else {}
            ),
        }

    def target(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    def scheme_host(self, slug: str) -> str:
        return f"http://{slug}.{self.opts.base_domain}:{self.ports['gateway']}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def stripe_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['stripe']}"

    @property
    def books_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['books']}"

    @property
    def has_localstripe(self) -> bool:
        return "localstripe" in self.children

    @property
    def platform_url(self) -> str:
        """The platform host: the bare base domain, where the API docs and the
        platform API answer (no integrator lives there)."""
        return f"http://{self.opts.base_domain}:{self.ports['gateway']}"

    @property
    def mail_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['smtp_web']}"

    def start_child(self, name: str) -> None:
        width = max(len(n) for n in self.children)
        self.children[name].start(cwd=ROOT, out=self._out, lock=self._lock, width=width)

    def stop_child(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        child = self.children.get(name)
        if child is not None:
            child.stop(sig=sig, timeout=timeout)

    def kill_child(self, name: str) -> None:
        """SIGKILL: a crash, not a shutdown (for fault tests)."""
        self.stop_child(name, sig=signal.SIGKILL)

    def restart_child(self, name: str) -> None:
        self.stop_child(name)
        self.start_child(name)
        self.wait_ready([name])

    def pids(self) -> dict[str, int]:
        """Every process we started and that is still ours to stop."""
        pids = {n: c.proc.pid for n, c in self.children.items() if c.proc is not None}
        for name, server in (("postgres", self.postgres), ("nats", self.nats)):
            if server.pid:
                pids[name] = server.pid
        return pids

    def crashed(self) -> list[str]:
        """Children that exited when nobody asked them to."""
        return [c.name for c in self.children.values() if c.exited and not c.expected_exit]

    # -- readiness ---------------------------------------------------------

    # A start-up on a shared, loaded machine (every service imports and
    # migrates at once on two cores) can take minutes; a healthy one, seconds.
    def wait_ready(self, names: list[str] | None = None, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        for name in names or list(self.children):
            while True:
                child = self.children[name]
                if child.exited:
                    assert child.proc is not None
                    raise RuntimeError(f"{name} exited with {child.proc.returncode} while starting")
                if self._ready(name):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become ready in {timeout:.0f}s")
                time.sleep(0.1)

    def _ready(self, name: str) -> bool:
        if name in SERVICES:
            return grpc_serving(self.target(name))
        url = {
            "gateway": f"{self.gateway_url}/healthz",
            "smtp": f"{self.mail_url}/messages",
            "localstripe": f"{self.stripe_url}/v1/customers",
            "books": f"{self.books_url}/qbo/discovery",
        }[name]
        return http_ok(url)

    # -- payments ----------------------------------------------------------

    def _register_stripe_webhook(self) -> None:
        """localstripe posts its events, signed with our secret, to the
        gateway's webhook endpoint, as Stripe would."""
        answer = httpx.post(
            f"{self.stripe_url}/_config/webhooks/portal",
            json={
                "url": f"{self.gateway_url}/api/v1/stripe/webhook",
                "secret": suite_secrets.stripe_webhook_secret(self.data),
            },
            timeout=5,
            trust_env=False,
        )
        answer.raise_for_status()

"""The whole suite on one machine: infrastructure, every service as its own
process, the gateway. Used by `make run` (deploy/cli.py) and by the e2e tests.

Children run in their own sessions (Ctrl-C reaches only us, and we stop them
in order) and get SIGTERM if we die (PR_SET_PDEATHSIG), so nothing is
orphaned. Each child's output is prefixed with its name.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import importlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from deploy import books_sandbox
from deploy.infra import Nats, Postgres, free_port
from services.chassis.auth import generate_keypair
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
PR_SET_PDEATHSIG = 1
# localstripe accepts any sk_test_ key; the seed and the tests use this one.
LOCALSTRIPE_KEY = "sk_test_portal_localstripe"


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the supervisor dies, however it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    expected_exit: bool = False
    pump: threading.Thread | None = None


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
        self.private_key, self.public_key = self._keys()
        self.platform_token = self._platform_token()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        try:
            self.postgres.start()
            self.nats.start()
            secrets_file = self._secrets()
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
        if self.opts.with_localstripe and _has_localstripe():
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
            env |= books_sandbox.payments_env(self.books_url, self.data)
        if name == "payments" and "localstripe" in self.children:
            env |= {
                p + "STRIPE_API_KEY": LOCALSTRIPE_KEY,
                p + "STRIPE_API_BASE": self.stripe_url,
                p + "STRIPE_WEBHOOK_SECRET": self._stripe_webhook_secret(),
            }
        if name == "identity":
            keys = self._identity_keys()
            env |= {
                p + "MASTER_KEYS": json.dumps(keys["master_keys"]),
                p + "ACTIVE_KEY_ID": keys["active_key_id"],
            }
        if name == "documents":
            keys = self._documents_keys()
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
        child = self.children[name]
        child.expected_exit = False
        child.proc = subprocess.Popen(
            child.argv,
            cwd=ROOT,
            env=child.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.pump.start()

    def stop_child(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        child = self.children.get(name)
        if child is None or child.proc is None or child.proc.poll() is not None:
            return
        child.expected_exit = True
        with contextlib.suppress(ProcessLookupError):
            child.proc.send_signal(sig)
        try:
            child.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait(5)
        if child.pump is not None:
            child.pump.join(2)

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
        return [
            c.name
            for c in self.children.values()
            if c.proc is not None and c.proc.poll() is not None and not c.expected_exit
        ]

    def _pump(self, child: Child) -> None:
        assert child.proc is not None and child.proc.stdout is not None
        width = max(len(n) for n in self.children)
        for line in child.proc.stdout:
            with self._lock:
                self._out.write(f"{child.name:<{width}} | {line}")
        self._out.flush()

    # -- readiness ---------------------------------------------------------

    # A start-up on a shared, loaded machine (every service imports and
    # migrates at once on two cores) can take minutes; a healthy one, seconds.
    def wait_ready(self, names: list[str] | None = None, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        for name in names or list(self.children):
            while True:
                child = self.children[name]
                if child.proc is not None and child.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {child.proc.returncode} while starting")
                if self._ready(name):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become ready in {timeout:.0f}s")
                time.sleep(0.1)

    def _ready(self, name: str) -> bool:
        if name in SERVICES:
            return _grpc_serving(self.target(name))
        url = {
            "gateway": f"{self.gateway_url}/healthz",
            "smtp": f"{self.mail_url}/messages",
            "localstripe": f"{self.stripe_url}/v1/customers",
            "books": f"{self.books_url}/qbo/discovery",
        }[name]
        return _http_ok(url)

    # -- secrets -----------------------------------------------------------

    def _keys(self) -> tuple[str, str]:
        path = self.data / "principal-key.json"
        if path.exists():
            keys = json.loads(path.read_text())
            return keys["private"], keys["public"]
        private, public = generate_keypair()
        path.write_text(json.dumps({"private": private, "public": public}))
        path.chmod(0o600)
        return private, public

    def _platform_token(self) -> str:
        """The platform operator's token for this data dir, generated once."""
        path = self.data / "platform-token"
        if not path.exists():
            path.write_text("plt_" + secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def _documents_keys(self) -> dict:
        """Documents' master keys and link secret, generated once per data dir.
        `portal documents rotate-key` adds a key here and makes it active."""
        path = self.data / "documents-keys.json"
        if path.exists():
            return json.loads(path.read_text())
        keys = {**_new_master_keys(), "link_secret": secrets.token_urlsafe(48)}
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
        return keys

    def _identity_keys(self) -> dict:
        """The master keys identity seals uploaded brand images under, once per data dir."""
        path = self.data / "identity-keys.json"
        if path.exists():
            return json.loads(path.read_text())
        keys = _new_master_keys()
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
        return keys

    def _stripe_webhook_secret(self) -> str:
        path = self.data / "stripe-webhook-secret"
        if not path.exists():
            path.write_text("whsec_" + secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def _register_stripe_webhook(self) -> None:
        """localstripe posts its events, signed with our secret, to the
        gateway's webhook endpoint, as Stripe would."""
        answer = httpx.post(
            f"{self.stripe_url}/_config/webhooks/portal",
            json={
                "url": f"{self.gateway_url}/api/v1/stripe/webhook",
                "secret": self._stripe_webhook_secret(),
            },
            timeout=5,
            trust_env=False,
        )
        answer.raise_for_status()

    def _secrets(self) -> dict[str, str]:
        path = self.data / "db-passwords.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        for name in SERVICES:
            known.setdefault(name, secrets.token_urlsafe(24))
        path.write_text(json.dumps(known))
        path.chmod(0o600)
        return known


def _new_master_keys() -> dict:
    return {
        "master_keys": {"k1": base64.b64encode(secrets.token_bytes(32)).decode()},
        "active_key_id": "k1",
    }


def _grpc_serving(target: str) -> bool:
    try:
        with grpc.insecure_channel(target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1
            )
        return response.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def _http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1) as response:
            return 200 <= response.status < 500
    except urllib.error.HTTPError as exc:  # it answered: up, if not pleased
        return exc.code < 500
    except OSError:
        return False


def _has_localstripe() -> bool:
    return (Path(sys.executable).parent / "localstripe").exists()

"""`portal tenants create`: onboard an integrator from the command line.

It calls identity's OnboardTenant as the platform, exactly as the gateway's
platform API does: the tenant with default branding, its owner, and the
owner's invitation by email. Run again with the same slug and owner email, it
answers the integrator made the first time and sends nothing.

Where the suite is: PORTAL_IDENTITY_TARGET and PORTAL_PRINCIPAL_PRIVATE_KEY
(a deployment: the principal key the gateway signs with), else the running
`make run` suite's `.data/` (or `--data-dir`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import grpc
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc

from deploy.suite import DATA_DIR, DEV_JSON
from services.chassis import timefmt
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, error_detail, open_channel

OPERATOR = Principal(kind="platform", subject="portal-cli")


def add_parser(sub: argparse._SubParsersAction) -> None:
    tenants = sub.add_parser("tenants", help="integrators: onboard a new one")
    commands = tenants.add_subparsers(dest="tenants_command", required=True)
    create = commands.add_parser(
        "create",
        help="onboard an integrator: its portal, default branding, and its owner invited by email",
    )
    create.add_argument("--slug", required=True, help="the subdomain, <slug>.<base domain>")
    create.add_argument("--name", required=True, help="the integrator's name, as clients see it")
    create.add_argument("--owner-email", required=True, help="the owner, invited by email")
    create.add_argument("--owner-name", default="", help="default: from the email address")
    create.add_argument("--time-zone", default="", help="IANA, e.g. Europe/London (default UTC)")
    create.add_argument("--currency", default="", help="ISO 4217, e.g. GBP (default USD)")
    create.add_argument("--region", default="", help="ISO 3166, e.g. GB")
    create.add_argument("--accent-color", default="", help="#rrggbb (default the portal's blue)")
    create.add_argument(
        "--request-id", default="", help="idempotency key (a retry is also known by slug + owner)"
    )
    create.add_argument("--json", action="store_true", help="print the answer as JSON")
    create.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="the local suite's data (default .data)"
    )


@dataclass(frozen=True)
class Target:
    identity: str
    private_key: str
    platform_url: str  # where the portals answer, to print each one's address; may be ""


def find_target(data_dir: Path) -> Target:
    """The suite to talk to: the environment first, else what `make run` wrote."""
    dev_path, key_path = data_dir / DEV_JSON, data_dir / "principal-key.json"
    dev = json.loads(dev_path.read_text()) if dev_path.exists() else {}
    identity = os.environ.get("PORTAL_IDENTITY_TARGET", "")
    if not identity and dev:
        env = dev["services"]["identity"]
        identity = f"{env.get('IDENTITY_GRPC_HOST', '127.0.0.1')}:{env['IDENTITY_GRPC_PORT']}"
    key = os.environ.get("PORTAL_PRINCIPAL_PRIVATE_KEY", "")
    if not key and key_path.exists():
        key = json.loads(key_path.read_text())["private"]
    if not identity or not key:
        raise SystemExit(
            "portal: no running suite found. Start one with `make run`, or set "
            "PORTAL_IDENTITY_TARGET (identity's gRPC host:port) and "
            "PORTAL_PRINCIPAL_PRIVATE_KEY (the Ed25519 key the gateway signs with)."
        )
    return Target(identity, key, os.environ.get("PORTAL_PLATFORM_URL", dev.get("platform_url", "")))


def portal_address(platform_url: str, slug: str) -> str:
    """http://localhost:8000 -> http://<slug>.localhost:8000."""
    if not platform_url:
        return ""
    parts = urlsplit(platform_url)
    return f"{parts.scheme}://{slug}.{parts.netloc}"


async def onboard(target: Target, args: argparse.Namespace) -> ipb.OnboardTenantResponse:
    call = Caller(PrincipalSigner(target.private_key), timeout=20)
    async with open_channel(target.identity) as channel:
        identity = identity_pb2_grpc.IdentityServiceStub(channel)
        return await call(
            identity.OnboardTenant,
            ipb.OnboardTenantRequest(
                request_id=args.request_id or str(uuid.uuid4()),
                slug=args.slug,
                display_name=args.name,
                owner_email=args.owner_email,
                owner_name=args.owner_name,
                time_zone=args.time_zone,
                currency=args.currency,
                region=args.region,
                branding=ipb.Branding(accent_color=args.accent_color),
            ),
            OPERATOR,
        )


def describe(answer: ipb.OnboardTenantResponse, portal: str) -> str:
    tenant, owner = answer.tenant, answer.owner
    where = f"\n  Portal: {portal}" if portal else ""
    if not answer.created:
        return (
            f"{tenant.display_name} is already onboarded at '{tenant.slug}' (tenant "
            f"{tenant.id}); {owner.email} is its owner. Nothing was sent again.{where}\n"
            "  (An owner whose invitation lapsed uses 'Forgot your password?' on the portal.)"
        )
    until = timefmt.format_datetime(answer.invite_expires_at, tenant.time_zone)
    return (
        f"Onboarded {tenant.display_name} at '{tenant.slug}' (tenant {tenant.id}).{where}\n"
        f"  Owner:  {owner.full_name} <{owner.email}>, invited by email; the link works "
        f"until {until}.\n"
        f"  Time zone {tenant.time_zone}, currency {tenant.currency}: the owner can change "
        "these and the branding in the console."
    )


def as_json(answer: ipb.OnboardTenantResponse, portal: str) -> str:
    expires = answer.invite_expires_at
    return json.dumps(
        {
            "created": answer.created,
            "tenant_id": answer.tenant.id,
            "slug": answer.tenant.slug,
            "name": answer.tenant.display_name,
            "portal_url": portal or None,
            "owner": {"id": answer.owner.id, "email": answer.owner.email},
            "invite_expires_at": expires.ToJsonString()
            if answer.HasField("invite_expires_at")
            else None,
        },
        indent=2,
    )


def run(args: argparse.Namespace) -> int:
    target = find_target(args.data_dir)
    try:
        answer = asyncio.run(onboard(target, args))
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            print(
                f"portal: identity at {target.identity} is not answering; is the suite running?",
                file=sys.stderr,
            )
            return 1
        detail = error_detail(exc)
        fields = ", ".join(v.field for v in detail.field_violations if v.field)
        print(f"portal: {detail.message}" + (f" ({fields})" if fields else ""), file=sys.stderr)
        return 1
    portal = portal_address(target.platform_url, answer.tenant.slug)
    print(as_json(answer, portal) if args.json else describe(answer, portal))
    return 0

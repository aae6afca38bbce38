"""The caller's principal, carried between processes as a short-lived signed token.

The gateway authenticates a person (or an API token) and mints a token that
says who is calling: tenant, subject, kind, roles, customer. Every service
verifies it on every call and checks the original caller's rights itself, so
a service never trusts the hop before it.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.chassis.errors import PermissionDenied, Unauthenticated

Kind = Literal["staff", "client", "service", "platform"]
ISSUER = "portal"
AUDIENCE = "portal-services"
TOKEN_TTL_SECONDS = 60
STAFF_ADMIN_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True)
class Principal:
    kind: Kind
    subject: str  # staff user id, contact id, or service name
    tenant_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    customer_id: str | None = None
    # An archived customer's contact, or staff viewing a client's portal:
    # they may look, not sign, pay or book.
    read_only: bool = False
    # The gateway session this call comes from, if any.
    session_id: str | None = None
    # Staff looking at a customer's portal as the client would (always
    # read-only); the subject is the staff user, not a contact.
    viewing_as: bool = False

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_client(self) -> bool:
        return self.kind == "client"

    def require_tenant(self) -> str:
        if not self.tenant_id:
            raise PermissionDenied("this call needs a tenant")
        return self.tenant_id

    def require_staff(self, *roles: str) -> None:
        """Staff of the tenant; if roles are given, one of them (owner/admin always pass)."""
        if self.kind not in ("staff", "service"):
            raise PermissionDenied("only the integrator's staff can do this")
        if roles and self.kind == "staff" and not (self.roles & (set(roles) | STAFF_ADMIN_ROLES)):
            raise PermissionDenied(f"this needs one of the roles: {', '.join(roles)}")

    READ_ONLY_MESSAGE: ClassVar[str] = (
        "this portal is read-only: nothing can be signed, paid or booked here"
    )

    def require_writable(self) -> None:
        """Refuse changes from a read-only principal (archived customer, view-as-client)."""
        if self.read_only:
            raise PermissionDenied(self.READ_ONLY_MESSAGE)

    # The suite's three rights; each returns the tenant to open the unit of work for.
    # A client reader still sees only their own customer's records, and only while
    # the portal is open (services.chassis.access.require_open_portal).

    def require_reader(self) -> str:
        """Any staff role, a service, or a client contact."""
        if not self.is_client:
            self.require_staff()
        return self.require_tenant()

    def require_editor(self, *roles: str) -> str:
        """Staff (with one of `roles`, if given) changing something; never read-only."""
        self.require_staff(*roles)
        self.require_writable()
        return self.require_tenant()

    def require_approver(self, action: str) -> str:
        """A client contact with the approver role, on a writable principal: the
        one who signs, pays and books. Staff cannot act for the client."""
        if not self.is_client:
            raise PermissionDenied(f"only the customer's approver can {action}")
        if "approver" not in self.roles:
            raise PermissionDenied(f"only an approver can {action}; a viewer can read but not act")
        self.require_writable()
        return self.require_tenant()

    def require_platform(self) -> None:
        if self.kind != "platform":
            raise PermissionDenied("only the platform operator can do this")


def generate_keypair() -> tuple[str, str]:
    """(private PEM, public PEM) for a new Ed25519 signing key."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class PrincipalSigner:
    """Signs principal tokens; one signed token serves an identical principal for
    most of its lifetime (an Ed25519 signature costs ~130 µs, a request needs one
    or two). A reused token is re-signed once less than `refresh_seconds` of its
    life is left, so every token a service receives still has that long to run:
    more than a call's deadline. At most `max_cached` principals are remembered
    (least recently used go first)."""

    def __init__(
        self,
        private_key_pem: str,
        *,
        ttl_seconds: int = TOKEN_TTL_SECONDS,
        refresh_seconds: int | None = None,
        max_cached: int = 1024,
    ) -> None:
        if not private_key_pem:
            raise ValueError("a private key is needed to sign principal tokens")
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("principal tokens are signed with an Ed25519 key")
        self._key = key
        self._ttl = ttl_seconds
        self._refresh = ttl_seconds // 3 if refresh_seconds is None else refresh_seconds
        self._max_cached = max_cached
        self._signed: OrderedDict[tuple, tuple[int, str]] = OrderedDict()  # claims -> (exp, token)

    def sign(self, principal: Principal, *, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "sub": principal.subject,
            "kind": principal.kind,
            "tid": principal.tenant_id,
            "roles": sorted(principal.roles),
            "cid": principal.customer_id,
            "ro": principal.read_only,
            "sid": principal.session_id,
            "va": principal.viewing_as,
        }
        # The claims themselves are the key: equal claims, equal rights.
        key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in claims.items())
        cached = self._signed.get(key)
        if (
            cached is not None
            and issued <= cached[0] - self._refresh
            and issued >= cached[0] - self._ttl
        ):
            self._signed.move_to_end(key)
            return cached[1]
        exp = issued + self._ttl
        token = jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "jti": uuid.uuid4().hex, "iat": issued, "exp": exp}
            | claims,
            self._key,
            algorithm="EdDSA",
        )
        self._signed[key] = (exp, token)
        self._signed.move_to_end(key)
        while len(self._signed) > self._max_cached:
            self._signed.popitem(last=False)
        return token


class PrincipalVerifier:
    """Verifies principal tokens; a token verified once is trusted again, as the
    same exact string, until its `exp` (verifying costs ~340 µs; a caller reuses
    its token for most of a minute). At most `max_cached` tokens are remembered."""

    def __init__(
        self,
        public_key_pem: str,
        *,
        max_cached: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("principal tokens are verified with an Ed25519 key")
        self._key = key
        self._max_cached = max_cached
        self._clock = clock
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            if self._clock() < cached[0]:
                self._verified.move_to_end(token)
                return cached[1]
            del self._verified[token]
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "kind"]},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid principal token: {exc}") from exc
        principal = Principal(
            kind=claims["kind"],
            subject=claims["sub"],
            tenant_id=claims.get("tid"),
            roles=frozenset(claims.get("roles") or ()),
            customer_id=claims.get("cid"),
            read_only=bool(claims.get("ro")),
            session_id=claims.get("sid"),
            viewing_as=bool(claims.get("va")),
        )
        # Until exp, not exp + leeway: a cached answer never outlives the token.
        self._verified[token] = (float(claims["exp"]), principal)
        while len(self._verified) > self._max_cached:
            self._verified.popitem(last=False)
        return principal


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "portal_principal", default=None
)


def current_principal() -> Principal:
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("no principal on this call")
    return principal


def set_current_principal(principal: Principal | None) -> contextvars.Token:
    return _current.set(principal)


def reset_current_principal(token: contextvars.Token) -> None:
    _current.reset(token)

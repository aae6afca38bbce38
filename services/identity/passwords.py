"""Password hashing with argon2id, off the event loop.

An argon2id hash at the ASVS floor (19 MiB, t=2) costs tens of milliseconds
of CPU: run in a thread so one sign-in does not stall every other call.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class Verified:
    ok: bool
    # A fresh hash when the stored one was made with other parameters (rehash on login).
    new_hash: str | None = None


class Passwords:
    def __init__(self, *, time_cost: int = 2, memory_cost: int = 19456, parallelism: int = 1):
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._dummy: str | None = None

    @classmethod
    def from_settings(cls, settings) -> Passwords:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> Verified:
        """Checks `password` against `stored`; with no stored hash, spends the same time
        on a dummy hash and fails, so timing does not tell whether an account exists."""
        if stored is None:
            await self.burn(password)
            return Verified(ok=False)
        return await asyncio.to_thread(self._verify, stored, password)

    async def burn(self, password: str) -> None:
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))
        await asyncio.to_thread(self._verify, self._dummy, password)

    def _verify(self, stored: str, password: str) -> Verified:
        try:
            self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verified(ok=False)
        if self._hasher.check_needs_rehash(stored):
            return Verified(ok=True, new_hash=self._hasher.hash(password))
        return Verified(ok=True)

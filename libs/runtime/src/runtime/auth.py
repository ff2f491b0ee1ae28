"""API keys with scopes, sent as ``X-API-Key`` or ``Authorization: Bearer``.

Keys come from settings, are compared in constant time, and are never logged.
"""

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from fastapi import Request

from runtime.errors import ApiError
from runtime.settings import ApiKey, Scope


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for: its key's (or token's) name, scopes and organisation."""

    name: str
    scopes: frozenset[str]
    organisation: str

    @classmethod
    def of(cls, key: ApiKey) -> "Principal":
        return cls(key.name, frozenset(key.scopes), key.organisation)

    @property
    def platform(self) -> bool:
        """Whether it reads every organisation (scope ``platform``)."""
        return "platform" in self.scopes


class KeyRing:
    def __init__(self, keys: Sequence[ApiKey]) -> None:
        # Compare digests: hmac.compare_digest on equal-length values leaks nothing about
        # which key was close, and the loop always visits every key.
        self._keys = [(hashlib.sha256(k.key.get_secret_value().encode()).digest(), k) for k in keys]

    def lookup(self, presented: str) -> ApiKey | None:
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for known, key in self._keys:
            if hmac.compare_digest(known, digest):
                found = key
        return found


def grants(scopes: Collection[str], scope: Scope) -> bool:
    """Whether ``scopes`` allow ``scope``: ``platform`` implies every other one, ``admin``
    every other but ``platform``."""
    if scope in scopes or "platform" in scopes:
        return True
    return "admin" in scopes and scope != "platform"


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal_of(request: Request) -> Principal:
    """The caller ``require`` found for ``request``; 401 for a request without one (a
    route that forgot the dependency reads and posts nothing)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise ApiError(401, "missing API key", headers={"WWW-Authenticate": "Bearer"})
    return principal


Authenticator = Callable[[Request], Awaitable[Principal | None]]


def require(
    scope: Scope, ring: KeyRing, *extra: Authenticator
) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: 401 without valid credentials, 403 without ``scope``.
    ``admin`` implies every other scope. ``extra`` authenticators (e.g. JWT) are tried
    when the presented token is not a known API key."""

    async def dependency(request: Request) -> Principal:
        token = presented_key(request)
        if token is None:
            raise ApiError(401, "missing API key", headers={"WWW-Authenticate": "Bearer"})
        key = ring.lookup(token)
        principal = Principal.of(key) if key else None
        for authenticate in extra:
            if principal is not None:
                break
            principal = await authenticate(request)
        if principal is None:
            raise ApiError(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
        if not grants(principal.scopes, scope):
            raise ApiError(403, f"this key lacks the '{scope}' scope")
        request.state.principal = principal
        return principal

    return dependency

"""JWT bearer tokens verified with a configured secret or a JWKS (PyJWT), mapped to
the same scopes as API keys. Tried only when the bearer token is not a known key.

As RFC 8725 asks: the algorithms follow the key source (HMAC ones with a shared secret,
asymmetric ones with a JWKS; ``GatewaySettings`` refuses a mix), a token's ``alg`` is
checked before any key is looked up, ``exp``, ``aud`` and ``iss`` are required, and any
token that does not verify, however malformed, is refused (401), never an error.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import jwt
from fastapi import Request

from gateway.config import GatewaySettings
from runtime.auth import Principal, presented_key
from runtime.errors import ApiError

log = logging.getLogger(__name__)

SCOPES = frozenset({"read", "ingest", "admin", "platform"})


def scopes_of(claim: Any) -> frozenset[str]:
    """Scopes from a space-separated string or a list, keeping only known ones."""
    if isinstance(claim, str):
        items: Iterable[Any] = claim.split()
    elif isinstance(claim, list | tuple):
        items = claim
    else:
        return frozenset()
    return frozenset(str(s) for s in items) & SCOPES


class JwtAuthenticator:
    def __init__(self, settings: GatewaySettings) -> None:
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        self._algorithms = settings.jwt_allowed()
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._claim = settings.jwt_scope_claim
        self._organisation_claim = settings.jwt_organisation_claim
        self._default_organisation = settings.default_organisation

    async def _key(self, token: str) -> Any:
        if self._secret is not None:
            return self._secret
        assert self._jwks is not None
        # the JWKS client fetches (and caches) the key set over blocking HTTP
        try:
            found = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("JWKS unavailable: %s", exc)
            raise ApiError(503, "token keys unavailable", headers={"Retry-After": "5"}) from None
        return found.key

    async def _claims(self, token: str) -> dict[str, Any]:
        if jwt.get_unverified_header(token).get("alg") not in self._algorithms:
            raise jwt.InvalidAlgorithmError("algorithm not allowed")
        claims: dict[str, Any] = jwt.decode(
            token,
            await self._key(token),
            algorithms=self._algorithms,
            audience=self._audience,
            issuer=self._issuer,
            options={"require": ["exp", "aud", "iss"]},
        )
        return claims

    async def __call__(self, request: Request) -> Principal | None:
        token = presented_key(request)
        if token is None or token.count(".") != 2:
            return None
        try:
            claims = await self._claims(token)
        except ApiError:
            raise
        except Exception as exc:  # any token that does not verify, however malformed: 401
            log.info("bearer token rejected: %s", type(exc).__name__)
            return None
        organisation = claims.get(self._organisation_claim)
        if not isinstance(organisation, str) or not organisation:
            organisation = self._default_organisation
        name, scopes = str(claims.get("sub", "jwt")), scopes_of(claims.get(self._claim))
        return Principal(name, scopes, organisation)


def authenticators(settings: GatewaySettings) -> tuple[JwtAuthenticator, ...]:
    if settings.jwt_secret is None and settings.jwt_jwks_url is None:
        return ()
    return (JwtAuthenticator(settings),)

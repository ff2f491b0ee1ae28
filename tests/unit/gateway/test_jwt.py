"""JWT bearer tokens (RFC 8725): algorithms follow the key source, audience and issuer
are required, and every token that does not verify answers 401 in the error shape."""

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request

from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.jwtauth import JwtAuthenticator, authenticators
from runtime.settings import SettingsError, load

SECRET = "jwt-secret-for-tests-0123456789abcdef"
OTHER_SECRET = "another-secret-0123456789abcdef-xyz"
AUDIENCE, ISSUER = "wellstream", "https://issuer.example"
JWKS_URL = "https://issuer.example/jwks.json"
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = PRIVATE.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
JWK = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE.public_key())), "kid": "k1"}


def claims(**changes: Any) -> dict[str, Any]:
    """Claims of a token made when the tests are collected: valid for a day, since the
    suite may run for minutes before the token is used."""
    base = {"sub": "svc", "scope": "read", "aud": AUDIENCE, "iss": ISSUER}
    return {**base, "exp": int(time.time()) + 86_400, **changes}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    header = json.dumps({"alg": "none", "typ": "JWT"}).encode()
    return f"{b64(header)}.{b64(json.dumps(payload).encode())}."


def hs256_by_hand(payload: dict[str, Any], key: bytes, kid: str) -> str:
    """HS256 keyed with ``key`` as raw bytes, as an attacker signs with a public key
    (PyJWT refuses to)."""
    header = json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()
    signing_input = f"{b64(header)}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def rs256(payload: dict[str, Any], kid: str = "k1") -> str:
    return jwt.encode(payload, PRIVATE, algorithm="RS256", headers={"kid": kid})


def hs256(payload: dict[str, Any], secret: str = SECRET, kid: str | None = None) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers)


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in claims().items() if k != name}


def settings(**jwt_settings: Any) -> GatewaySettings:
    values = {"jwt_audience": AUDIENCE, "jwt_issuer": ISSUER, **jwt_settings}
    return GatewaySettings.model_validate(values)


@pytest.fixture
def jwks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key set the JWKS URL serves, without a network."""
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda _: {"keys": [JWK]})


async def api(gateway: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(gateway))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def status_of(gateway: GatewaySettings, token: str) -> tuple[int, dict[str, Any]]:
    """A read with ``token``: past authentication the app, never started, answers 503."""
    async for client in api(gateway):
        response = await client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.json()
    raise AssertionError("unreachable")


SECRET_CASES = [
    pytest.param(hs256(claims()), 503, id="valid"),
    pytest.param(hs256(claims(scope="ingest")), 403, id="wrong-scope"),
    pytest.param(hs256(claims(), secret=OTHER_SECRET), 401, id="bad-signature"),
    pytest.param(rs256(claims()), 401, id="asymmetric-alg-with-a-secret"),
    pytest.param(unsigned(claims()), 401, id="alg-none"),
    pytest.param(hs256(claims(aud="someone-else")), 401, id="wrong-aud"),
    pytest.param(hs256(claims(iss="https://evil.example")), 401, id="wrong-iss"),
    pytest.param(hs256(without("aud")), 401, id="no-aud"),
    pytest.param(hs256(without("iss")), 401, id="no-iss"),
    pytest.param(hs256(without("exp")), 401, id="no-exp"),
    pytest.param(hs256(claims(exp=int(time.time()) - 30)), 401, id="expired"),
    pytest.param("a.b.c", 401, id="garbage"),
    pytest.param("e30.e30.", 401, id="empty-header-no-alg"),
]
JWKS_CASES = [
    pytest.param(rs256(claims()), 503, id="valid"),
    pytest.param(
        hs256_by_hand(claims(), PUBLIC_PEM, "k1"), 401, id="hs256-keyed-by-the-public-key"
    ),
    pytest.param(hs256(claims(), kid="k1"), 401, id="hs256-with-a-real-kid"),
    pytest.param(unsigned(claims()), 401, id="alg-none"),
    pytest.param(rs256(claims(aud="someone-else")), 401, id="wrong-aud"),
    pytest.param(rs256(claims(iss="https://evil.example")), 401, id="wrong-iss"),
    pytest.param(rs256(claims(exp=int(time.time()) - 30)), 401, id="expired"),
    pytest.param(rs256(claims(), kid="nope"), 401, id="wrong-kid"),
    pytest.param("a.b.c", 401, id="garbage"),
]


@pytest.mark.parametrize(("token", "status"), SECRET_CASES)
async def test_tokens_against_a_secret(token: str, status: int) -> None:
    got, body = await status_of(settings(jwt_secret=SECRET), token)
    assert got == status
    assert set(body) == {"error_code", "message", "details", "request_id", "timestamp"}


@pytest.mark.parametrize(("token", "status"), JWKS_CASES)
@pytest.mark.usefixtures("jwks")
async def test_tokens_against_a_jwks(token: str, status: int) -> None:
    got, body = await status_of(settings(jwt_jwks_url=JWKS_URL), token)
    assert got == status
    assert set(body) == {"error_code", "message", "details", "request_id", "timestamp"}


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        pytest.param({"JWT_SECRET": SECRET, "JWT_ISSUER": ISSUER}, "JWT_AUDIENCE", id="no-aud"),
        pytest.param({"JWT_JWKS_URL": JWKS_URL, "JWT_AUDIENCE": "a"}, "JWT_ISSUER", id="no-iss"),
        pytest.param(
            {"JWT_SECRET": SECRET, "JWT_AUDIENCE": "a", "JWT_ISSUER": "i",
             "JWT_ALGORITHMS": '["HS256", "RS256"]'},
            "JWT_ALGORITHMS", id="rs-with-a-secret",
        ),
        pytest.param(
            {"JWT_JWKS_URL": JWKS_URL, "JWT_AUDIENCE": "a", "JWT_ISSUER": "i",
             "JWT_ALGORITHMS": '["HS256"]'},
            "JWT_ALGORITHMS", id="hs-with-a-jwks",
        ),
        pytest.param(
            {"JWT_JWKS_URL": JWKS_URL, "JWT_AUDIENCE": "a", "JWT_ISSUER": "i",
             "JWT_ALGORITHMS": '["none"]'},
            "JWT_ALGORITHMS", id="none",
        ),
        pytest.param(
            {"JWT_SECRET": SECRET, "JWT_JWKS_URL": JWKS_URL, "JWT_AUDIENCE": "a",
             "JWT_ISSUER": "i"},
            "JWT_JWKS_URL", id="two-key-sources",
        ),
    ],
)  # fmt: skip
def test_start_up_refuses_a_loose_configuration(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(f"WELLSTREAM_{name}", value)
    with pytest.raises(SettingsError) as refused:
        load(GatewaySettings)
    assert re.findall(r"WELLSTREAM_[A-Z_]+", str(refused.value)) == [f"WELLSTREAM_{named}"]


def test_algorithms_default_to_the_key_source() -> None:
    assert settings(jwt_secret=SECRET).jwt_allowed() == ["HS256"]
    assert settings(jwt_jwks_url=JWKS_URL).jwt_allowed() == ["RS256", "ES256"]


def test_without_jwt_nothing_is_required() -> None:
    assert authenticators(GatewaySettings()) == ()


@pytest.mark.parametrize(
    ("extra", "organisation", "platform"),
    [
        pytest.param({"org": "acme"}, "acme", False, id="named"),
        pytest.param({}, "default", False, id="absent"),
        pytest.param({"org": ""}, "default", False, id="blank"),
        pytest.param({"org": 7}, "default", False, id="not-text"),
        pytest.param({"org": "ops", "scope": "platform"}, "ops", True, id="platform"),
    ],
)
async def test_a_token_names_its_organisation(
    extra: dict[str, Any], organisation: str, platform: bool
) -> None:
    authenticate = JwtAuthenticator(settings(jwt_secret=SECRET))
    token = hs256(claims(**extra))
    request = Request({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})
    principal = await authenticate(request)
    assert principal is not None
    assert (principal.organisation, principal.platform) == (organisation, platform)

"""Who is calling: static bearer tokens and JWTs, checked before any GraphQL work.

A gateway that holds the upstream key must not lend it to anyone who can reach
it, so callers then present a credential of the gateway's own:

- a **static bearer token**, configured as the SHA-256 hex digest of the token
  (``AUTH_TOKEN_HASHES``; the gateway never stores the token itself). Digests are
  compared with ``hmac.compare_digest``, against every configured digest, so the
  time taken says nothing about which one nearly matched. The caller's subject is
  ``token:<first 12 hex digits of the digest>``: stable, and no secret.
- a **JWT**, verified against ``JWT_KEY`` (a PEM public key, or an HMAC secret) or
  the key set at ``JWT_JWKS_URL`` (fetched and cached by ``PyJWKClient``), with
  its signature, ``exp`` (required), ``nbf``, and ``iss``/``aud`` when configured.
  The subject is the ``sub`` claim (required). A PEM key only verifies RS/ES/PS/EdDSA
  algorithms and a secret only HS ones, so a public key can never be used as an
  HMAC secret (algorithm confusion); a token whose header names an algorithm of
  another key family (ES256 for an RSA key) is refused like any invalid token.

Failures are ``UnauthenticatedError`` with a message fit for the caller; it never
repeats the credential.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.config import Settings, is_pem, verifying_algorithms

__all__ = ["Authenticator", "Principal", "UnauthenticatedError", "bearer_token", "token_digest"]

logger = logging.getLogger("gateway.auth")

_HEX64 = re.compile(r"[0-9a-f]{64}")
_SUBJECT = re.compile(r"[\x21-\x7e]{1,256}")
_LEEWAY_SECONDS = 10
_JWKS_CACHE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: ``subject`` names it in logs and in thread ownership."""

    subject: str
    method: str  # "token" or "jwt"
    expires_at: float | None = None  # a JWT's exp (unix seconds): ends a subscription


class UnauthenticatedError(Exception):
    """No credential, or one the gateway does not accept; the message is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a static token is configured."""
    return hashlib.sha256(token.encode()).hexdigest()


FORWARDED_WITHOUT_KEY = "key:none"
"""The holder of what was read with no bearer to forward (not a digest: no hex ``n``)."""


def forwarded_key_holder(token: str | None) -> str:
    """Who holds what a passthrough caller reads: ``key:<first 12 hex of its digest>``.

    Without gateway authentication over a remote upstream, the caller's bearer is its
    upstream key, so what it may read is that key's; the thread index records and
    lists rows under this holder (in the static tokens' digest style, never the key).
    """
    return f"key:{token_digest(token)[:12]}" if token else FORWARDED_WITHOUT_KEY


class Authenticator:
    """Checks the caller's credential; built once per app from the settings."""

    def __init__(
        self,
        *,
        required: bool,
        token_hashes: list[str],
        jwt_key: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        algorithms: list[str] | None = None,
    ) -> None:
        hashes = [h.strip().lower() for h in token_hashes if h.strip()]
        for digest in hashes:
            if _HEX64.fullmatch(digest) is None:
                raise ValueError("AUTH_TOKEN_HASHES must hold SHA-256 hex digests (64 hex digits)")
        if jwt_key and jwks_url:
            raise ValueError("set JWT_KEY or JWT_JWKS_URL, not both")
        self.required = required
        self._hashes = hashes
        self._issuer = issuer
        self._audience = audience
        algorithms = algorithms or ["RS256", "ES256", "HS256"]
        self._key: Any = None
        self._jwks: jwt.PyJWKClient | None = None
        self._algorithms: list[str] = []
        if jwt_key:
            pem = is_pem(jwt_key)
            self._algorithms = verifying_algorithms(algorithms, symmetric=not pem)
            self._key = jwt_key.encode() if pem else jwt_key
        elif jwks_url:
            self._algorithms = verifying_algorithms(algorithms, symmetric=False)
            self._jwks = jwt.PyJWKClient(
                jwks_url, cache_keys=True, lifespan=_JWKS_CACHE_SECONDS, timeout=5
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        """Required when the operator says so, else when the gateway holds the upstream
        key, has credentials configured, or isolates owners (which needs a subject)."""
        has_credentials = bool(
            settings.auth_token_hashes or settings.jwt_key or settings.jwt_jwks_url
        )
        required = settings.auth_required
        if required is None:
            holds_key = settings.upstream_url is not None and settings.upstream_api_key is not None
            required = holds_key or has_credentials or settings.owner_metadata_key is not None
        if required and not has_credentials:
            logger.warning(
                "gateway authentication is required but no credential is configured "
                "(AUTH_TOKEN_HASHES, JWT_KEY or JWT_JWKS_URL): every request will be refused"
            )
        return cls(
            required=required,
            token_hashes=settings.auth_token_hashes,
            jwt_key=settings.jwt_key.get_secret_value() if settings.jwt_key else None,
            jwks_url=settings.jwt_jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms,
        )

    @property
    def uses_jwt(self) -> bool:
        return self._key is not None or self._jwks is not None

    async def authenticate(self, authorization: str | None) -> Principal | None:
        """The caller, ``None`` when authentication is off; ``UnauthenticatedError`` else."""
        if not self.required:
            return None
        token = bearer_token(authorization)
        if token is None:
            raise UnauthenticatedError(
                "Authentication required: send 'Authorization: Bearer <token>'."
            )
        principal = self._static(token)
        if principal is not None:
            return principal
        if self.uses_jwt and token.count(".") == 2:
            return await self._jwt(token)
        raise UnauthenticatedError("The credential is not valid.")

    def _static(self, token: str) -> Principal | None:
        if not self._hashes:
            return None
        digest = token_digest(token)
        matched = False
        for known in self._hashes:  # no early exit: every digest is compared
            matched |= hmac.compare_digest(digest, known)
        return Principal(f"token:{digest[:12]}", "token") if matched else None

    async def _jwt(self, token: str) -> Principal:
        key = self._key
        if self._jwks is not None:
            try:
                # May fetch the key set (blocking I/O): off the event loop.
                signing = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
                if not isinstance(exc, jwt.PyJWKClientConnectionError):
                    raise UnauthenticatedError("The token is not valid.") from None
                logger.warning("could not fetch the JWT key set")
                raise UnauthenticatedError(
                    "The token could not be verified right now; try again later."
                ) from None
            except Exception as exc:  # a broken key set (not JSON, bad keys, I/O cut short)
                logger.warning("the JWT key set could not be used: %s", type(exc).__name__)
                raise UnauthenticatedError(
                    "The token could not be verified right now; try again later."
                ) from None
            key = signing.key
        required = ["exp", "sub"]
        if self._issuer is not None:
            required.append("iss")
        if self._audience is not None:
            required.append("aud")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError("The token has expired.") from None
        except jwt.InvalidAudienceError:
            raise UnauthenticatedError("The token is not meant for this gateway.") from None
        except jwt.InvalidIssuerError:
            raise UnauthenticatedError("The token's issuer is not trusted.") from None
        except jwt.InvalidTokenError:
            raise UnauthenticatedError("The token is not valid.") from None
        except (jwt.InvalidKeyError, TypeError, ValueError):
            # The header names an algorithm of another key family than the key's (an
            # RSA key and ES256, an EC key and RS256, a JWKS key of the other kind):
            # PyJWT fails preparing the key, not verifying the token. Still a bad token.
            raise UnauthenticatedError("The token is not valid.") from None
        subject = claims.get("sub")
        if (
            not isinstance(subject, str)
            or _SUBJECT.fullmatch(subject) is None
            or subject.startswith("token:")  # the static tokens' namespace
        ):
            raise UnauthenticatedError("The token's subject is not usable.")
        expires = claims.get("exp")
        return Principal(
            subject, "jwt", expires_at=float(expires) if isinstance(expires, int | float) else None
        )

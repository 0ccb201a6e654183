"""Gateway authentication (who is calling) and per-owner isolation (what they may touch).

``Authenticator`` checks the caller's credential before any GraphQL work;
``OwnedSession`` wraps an operation's upstream session so that a caller only
reaches the threads it created. See ``_credentials`` and ``ownership``.
"""

from gateway.auth._credentials import (
    Authenticator,
    Principal,
    UnauthenticatedError,
    bearer_token,
    forwarded_key_holder,
    token_digest,
)
from gateway.auth._http import executes_graphql, unauthenticated_response
from gateway.auth.ownership import OwnedSession

__all__ = [
    "Authenticator",
    "OwnedSession",
    "Principal",
    "UnauthenticatedError",
    "bearer_token",
    "executes_graphql",
    "forwarded_key_holder",
    "token_digest",
    "unauthenticated_response",
]

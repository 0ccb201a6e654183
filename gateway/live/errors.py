"""Why a subscription is refused or ended (coded by ``gateway.schema.errors.describe``)."""

from __future__ import annotations

__all__ = ["CredentialExpiredError", "SubscriptionLimitError"]


class SubscriptionLimitError(Exception):
    """``SUBSCRIPTION_LIMIT``: too many subscriptions on this connection, or of this caller."""

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(f"Too many subscriptions for this {scope} (at most {limit}).")
        self.scope = scope
        self.limit = limit


class CredentialExpiredError(Exception):
    """``UNAUTHENTICATED``: the token that opened the stream has expired."""

    def __init__(self) -> None:
        super().__init__("The token has expired; subscribe again with a fresh one.")

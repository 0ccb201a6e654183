"""Settings of messages-gateway, read from the environment (prefix ``GATEWAY_``) and ``.env``.

One immutable value object, built once by the CLI (or a test) and handed to
``create_app``. Secrets are ``SecretStr`` so that a settings object printed or
logged by accident shows ``**********`` instead of a key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gateway.cpus import available_cpus
from gateway.wire_contract import MAX_METADATA_KEY_LENGTH

if TYPE_CHECKING:
    from gateway.store.locations import StoreLocation

__all__ = ["Settings"]


def _split_csv(value: object) -> object:
    """Accept ``a,b,c`` from the environment as well as a JSON list or a real list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def is_pem(key: str) -> bool:
    """A PEM public key (``-----BEGIN ...``), as opposed to an HMAC secret."""
    return key.lstrip().startswith("-----BEGIN")


def verifying_algorithms(algorithms: list[str], *, symmetric: bool) -> list[str]:
    """The JWT algorithms a key of this kind can verify: HS* for an HMAC secret, the
    others for a public key, so a public key is never used as an HMAC secret.
    ``ValueError`` when none is left (the key could verify no token at all)."""
    chosen = [a for a in algorithms if a.upper().startswith("HS") == symmetric]
    if not chosen:
        kind = (
            "an HMAC secret (GATEWAY_JWT_KEY)"
            if symmetric
            else "a public key (GATEWAY_JWT_KEY or GATEWAY_JWT_JWKS_URL)"
        )
        raise ValueError(f"GATEWAY_JWT_ALGORITHMS has no algorithm that {kind} can verify")
    return chosen


AUTO_WORKERS_CAP = 8
"""``WORKERS=auto`` on a bigger machine: each worker holds its own pool and ~100 MiB."""


class Settings(BaseSettings):
    """Everything an operator can configure; see the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_file=".env", extra="ignore", frozen=True
    )

    # --- upstream -----------------------------------------------------------------
    upstream_url: str | None = Field(
        default=None,
        description="Base URL of a remote OpenAI-compatible API, with or without /v1. "
        "Unset: the embedded store.",
    )
    upstream_api_key: SecretStr | None = Field(
        default=None, description="Server-side key sent upstream instead of the caller's bearer."
    )
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to connect upstream.")
    read_timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for a response.")
    operation_deadline: float = Field(
        default=60.0, gt=0, description="Seconds one GraphQL operation may spend upstream."
    )
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries of safe requests.")
    retry_backoff: float = Field(default=0.2, ge=0, description="First retry delay, seconds.")
    breaker_failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive upstream failures that open the circuit."
    )
    breaker_reset_seconds: float = Field(
        default=10.0, gt=0, description="Seconds an open circuit waits before a trial call."
    )
    upstream_transport: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        description="The HTTP client under the upstream calls: aiohttp's pool and C parser "
        "(fast under concurrency), or httpx's own (pure Python). BENCHMARKS.md.",
    )
    upstream_max_response_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=64 * 1024,
        description="Largest decoded upstream answer, bytes; past it the call is UPSTREAM_ERROR.",
    )

    # --- embedded store -----------------------------------------------------------
    store_path: Path = Field(
        default=Path("./data/messages.sqlite3"), description="SQLite file of the embedded store."
    )
    store_api_key: SecretStr | None = Field(
        default=None, description="When set, /v1 requires 'Authorization: Bearer <key>'."
    )
    store_url: SecretStr | None = Field(
        default=None,
        description="The store's backend: sqlite:///path/to/file or "
        "postgresql://user@host:port/database (the postgres extra). Unset: STORE_PATH.",
    )

    store_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Most PostgreSQL connections one process holds (STORE_URL=postgresql://).",
    )

    @field_validator("store_url")
    @classmethod
    def _store_url(cls, value: SecretStr | None) -> SecretStr | None:
        from gateway.store.locations import parse_store_url

        if value is not None:
            parse_store_url(value.get_secret_value())  # ValueError: without the URL
        return value

    @property
    def store_location(self) -> StoreLocation:
        """Where the embedded store keeps its data: STORE_URL, else the file at STORE_PATH."""
        from gateway.store.locations import parse_store_url, sqlite_location

        if self.store_url is None:
            return sqlite_location(self.store_path)
        return parse_store_url(self.store_url.get_secret_value())

    # --- server -------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port to listen on.")
    workers: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] = Field(
        default="auto",
        description="Processes serving the port (serve --workers N, 1-64); auto: one per "
        f"CPU this process may use, at most {AUTO_WORKERS_CAP}. Each has its own upstream "
        "pool, caches and /metrics; the store's database is the only thing they share.",
    )

    @property
    def worker_count(self) -> int:
        """``workers``, with ``auto`` resolved (``gateway.cpus``)."""
        if self.workers == "auto":
            return min(available_cpus(), AUTO_WORKERS_CAP)
        return self.workers

    log_level: str = Field(default="info", description="Python log level name.")
    debug: bool = Field(
        default=False, description="Adds upstream-call accounting to response extensions."
    )

    # --- GraphQL limits -----------------------------------------------------------
    max_depth: int = Field(default=12, ge=1, description="Maximum query depth.")
    max_aliases: int = Field(default=100, ge=1, description="Maximum aliases per operation.")
    max_tokens: int = Field(default=5000, ge=1, description="Maximum tokens per document.")
    max_cost: int = Field(default=5000, ge=1, description="Maximum static cost per operation.")
    max_selection_set_fields: int = Field(
        default=100,
        ge=1,
        description="Most field selections merged into one selection set (fragments spread "
        "in it included), checked before validation.",
    )
    max_fragment_spreads: int = Field(
        default=200, ge=1, description="Most fragment spreads per document, each expansion counted."
    )
    max_selections: int = Field(
        default=1500,
        ge=1,
        description="Most field selections per document, fragments counted where spread.",
    )
    max_field_pairs: int = Field(
        default=2000,
        ge=1,
        description="Most pairs of same-named fields merged in selection sets, per document.",
    )
    max_aliased_results: int = Field(
        default=1000,
        ge=1,
        description="Most resolutions of aliased fields per operation, each alias counted "
        "once per list item it is in.",
    )
    max_response_bytes: int = Field(
        default=16_000_000,
        ge=1024,
        description="Largest GraphQL response, bytes of leaf values; past it the "
        "operation stops with RESPONSE_TOO_LARGE.",
    )
    max_upstream_calls: int = Field(
        default=50, ge=1, description="Upstream calls one operation may make."
    )
    upstream_concurrency: int = Field(
        default=10, ge=1, description="Upstream calls one operation may have in flight at once."
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest accepted request body, bytes."
    )
    max_ids: int = Field(default=100, ge=1, description="Most ids in threads(ids:).")
    allow_batching: bool = Field(default=False, description="Accept a JSON array of operations.")
    max_batch_operations: int = Field(
        default=10, ge=1, description="Most operations in one batch (when batching is allowed)."
    )
    graphiql: bool = Field(default=True, description="Serve the GraphiQL IDE at /graphql.")
    introspection: bool = Field(default=True, description="Answer introspection queries.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated)."
    )

    # --- HTTP edge (gateway/http_edge) ---------------------------------------------
    http_header_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a request's headers may take to arrive."
    )
    http_body_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a request's body may take to arrive."
    )
    keepalive_timeout: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection stays open."
    )
    max_connections: int = Field(
        default=1000, ge=1, description="Open client connections (sockets) at most."
    )
    max_body_bytes_in_flight: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Request-body bytes the process holds at once, over all requests.",
    )
    allowed_hosts: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Host header values served (comma-separated, '*.x' patterns, '*' = any). "
        "Unset: the loopback names and HOST when HOST is loopback, else any.",
    )

    # --- gateway authentication ----------------------------------------------------
    auth_required: bool | None = Field(
        default=None,
        description="Require a gateway credential. Unset: required when the gateway holds "
        "the upstream key (remote upstream with UPSTREAM_API_KEY) or any credential is "
        "configured (AUTH_TOKEN_HASHES, JWT_KEY, JWT_JWKS_URL).",
    )
    auth_token_hashes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="SHA-256 hex digests of accepted static bearer tokens (comma-separated).",
    )
    jwt_key: SecretStr | None = Field(
        default=None, description="PEM public key or HS256 secret that signs caller JWTs."
    )
    jwt_jwks_url: str | None = Field(default=None, description="JWKS URL for caller JWTs.")
    jwt_issuer: str | None = Field(default=None, description="Required JWT issuer.")
    jwt_audience: str | None = Field(default=None, description="Required JWT audience.")
    jwt_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["RS256", "ES256", "HS256"],
        description="Accepted JWT algorithms.",
    )
    owner_metadata_key: str | None = Field(
        default=None, description="Metadata key stamping each thread with its owner's subject."
    )
    # --- live threads: subscriptions (gateway.live) ---------------------------------
    max_subscriptions_per_connection: int = Field(
        default=20, ge=1, description="Subscriptions one WebSocket connection may hold at once."
    )
    max_subscriptions_per_caller: int = Field(
        default=1000,
        ge=1,
        description="Subscriptions one caller may hold at once, per process.",
    )
    subscription_queue_size: int = Field(
        default=256,
        ge=1,
        description="Events a subscriber may fall behind before it is disconnected.",
    )
    subscription_keepalive: float = Field(
        default=15.0, gt=0, description="Seconds between keep-alive pings on an idle stream."
    )
    event_poll_interval: float = Field(
        default=0.05,
        gt=0,
        le=5,
        description="Seconds between reads of the SQLite event log while it has subscribers.",
    )
    poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="Remote upstream: seconds between polls of each thread with subscribers.",
    )

    @field_validator(
        "cors_origins", "auth_token_hashes", "jwt_algorithms", "allowed_hosts", mode="before"
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("auth_token_hashes")
    @classmethod
    def _digests(cls, value: list[str]) -> list[str]:
        digests = [digest.strip().lower() for digest in value]
        if any(re.fullmatch(r"[0-9a-f]{64}", digest) is None for digest in digests):
            raise ValueError("each entry must be a SHA-256 hex digest (64 hex digits)")
        return digests

    @field_validator("upstream_api_key", "store_api_key")
    @classmethod
    def _header_safe(cls, value: SecretStr | None) -> SecretStr | None:
        """A key goes into an ``Authorization`` header: a newline or any other control
        or non-ASCII character would fail every request, so it fails the start."""
        if value is not None:
            key = value.get_secret_value()
            if not (key.isascii() and key.isprintable()):
                raise ValueError("must be printable ASCII (no newline or other control character)")
        return value

    @field_validator("owner_metadata_key")
    @classmethod
    def _owner_key_is_a_metadata_key(cls, value: str | None) -> str | None:
        """The stamp goes into every created thread's metadata: a key the metadata rules
        refuse (empty, or longer than the key limit) would fail every createThread."""
        if value is not None and not 1 <= len(value) <= MAX_METADATA_KEY_LENGTH:
            raise ValueError(
                f"GATEWAY_OWNER_METADATA_KEY must be a metadata key of 1 to "
                f"{MAX_METADATA_KEY_LENGTH} characters (every createThread would fail)"
            )
        return value

    @model_validator(mode="after")
    def _one_jwt_key_source(self) -> Settings:
        if self.jwt_key is not None and self.jwt_jwks_url is not None:
            raise ValueError("set JWT_KEY or JWT_JWKS_URL, not both")
        return self

    @model_validator(mode="after")
    def _jwt_algorithms_fit_the_key(self) -> Settings:
        if self.jwt_key is not None:
            symmetric = not is_pem(self.jwt_key.get_secret_value())
            verifying_algorithms(self.jwt_algorithms, symmetric=symmetric)
        elif self.jwt_jwks_url is not None:
            verifying_algorithms(self.jwt_algorithms, symmetric=False)
        return self

    @model_validator(mode="after")
    def _isolation_needs_authentication(self) -> Settings:
        """DESIGN.md §8: owner isolation without authentication cannot be safe (there is
        no subject to stamp, so every caller would read every thread)."""
        if self.owner_metadata_key is not None and self.auth_required is False:
            raise ValueError(
                "GATEWAY_OWNER_METADATA_KEY needs gateway authentication, but "
                "GATEWAY_AUTH_REQUIRED=false: every caller would read every thread"
            )
        return self

    @property
    def embedded(self) -> bool:
        """True when the gateway's upstream is its own store at /v1."""
        return self.upstream_url is None

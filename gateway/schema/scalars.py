"""The custom scalars: ``DateTime``, ``Metadata`` and ``JSON``.

``DateTime`` and ``Metadata`` are plain Python types to the type checker (``int``
Unix seconds, ``dict[str, str]``) and ``NewType`` markers at run time, bound to
their GraphQL definitions through the schema's ``scalar_overrides`` (``SCALARS``).

``DateTime`` keeps the upstream's Unix seconds in Python and formats them only
when serialising, so a field nobody asks for costs nothing. ``Metadata`` checks
the upstream's documented limits while variables are coerced, which is before
any resolver (and so any upstream call) runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NewType, TypeAlias

import strawberry
from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from gateway.wire_contract import (
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    metadata_problem,
)

__all__ = [
    "DATETIME",
    "JSON",
    "METADATA",
    "SCALARS",
    "DateTime",
    "Metadata",
    "validate_metadata",
]


def _serialize_datetime(value: int | datetime) -> str:
    if type(value) is int:
        return _format_seconds(value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
    else:
        moment = datetime.fromtimestamp(value, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)
def _format_seconds(value: int) -> str:
    """Unix seconds as ISO-8601 (a response repeats the instants of the messages it
    shows, and so do the responses that follow; an out-of-range value raises as before,
    and is not cached)."""
    return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_datetime(value: object) -> int:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string.")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"Invalid ISO-8601 DateTime: {value[:40]!r}.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


if TYPE_CHECKING:
    DateTime: TypeAlias = int
    Metadata: TypeAlias = dict[str, str]
else:
    DateTime = NewType("DateTime", int)
    Metadata = NewType("Metadata", dict)

DATETIME = strawberry.scalar(
    name="DateTime",
    description="An instant in UTC, as an ISO-8601 string such as 2026-11-26T00:48:12Z.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)


def validate_metadata(value: object) -> dict[str, str]:
    """Return ``value`` as metadata, or raise ``ValueError`` naming the broken limit.

    The rules are ``wire_contract.metadata_problem``'s, the store's too.
    """
    problem = metadata_problem(value)
    if problem is None:
        return value  # type: ignore[return-value]  # checked: a str-to-str dict
    key = problem.key or ""
    messages = {
        "not_a_map": "Metadata must be an object mapping strings to strings.",
        "too_many_keys": (
            f"Metadata has {problem.size} keys; at most {MAX_METADATA_KEYS} are allowed."
        ),
        "empty_key": "Metadata keys must be non-empty strings.",
        "key_too_long": (
            f"Metadata key {key[:20]!r}... is {problem.size} characters; "
            f"at most {MAX_METADATA_KEY_LENGTH} are allowed."
        ),
        "value_not_a_string": f"Metadata value of {key!r} must be a string.",
        "value_too_long": (
            f"Metadata value of {key!r} is {problem.size} characters; "
            f"at most {MAX_METADATA_VALUE_LENGTH} are allowed."
        ),
    }
    raise ValueError(messages[problem.rule])


def _serialize_metadata(value: dict[str, str] | None) -> dict[str, str]:
    return value if value is not None else {}


def _parse_metadata_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> object:
    """An inline ``{key: "value"}`` literal; a broken limit is the caller's input error."""
    try:
        return validate_metadata(value_from_ast_untyped(node, variables))
    except ValueError as exc:
        raise GraphQLError(str(exc), nodes=[node], extensions={"code": "BAD_USER_INPUT"}) from None


METADATA = strawberry.scalar(
    name="Metadata",
    description=(
        f"String-to-string map: at most {MAX_METADATA_KEYS} keys; keys at most "
        f"{MAX_METADATA_KEY_LENGTH} chars; values at most {MAX_METADATA_VALUE_LENGTH} chars."
    ),
    serialize=_serialize_metadata,
    parse_value=validate_metadata,
    parse_literal=_parse_metadata_literal,
)


SCALARS: dict[object, ScalarDefinition] = {DateTime: DATETIME, Metadata: METADATA}
"""The ``scalar_overrides`` that bind the Python types above to their GraphQL scalars."""

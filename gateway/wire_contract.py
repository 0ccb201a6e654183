"""The wire contract: what the Threads & Messages wire format allows, in one place.

Two parts of this codebase speak the OpenAI Threads & Messages wire format: the
embedded store serves it (``gateway.store``), and the gateway consumes it
(``gateway.upstream``, and ``gateway.schema``, which checks GraphQL input
before anything goes upstream). Whatever the format allows is a fact both
sides must hold *the same way*; in 0.1 each kept its own copy and they
drifted (an empty metadata key was refused by GraphQL and accepted by
``/v1``; a request id of 65 to 128 characters was kept by the store and
replaced by the gateway). So the facts live here, and each side keeps only
its wording (the store answers in the OpenAI error envelope, GraphQL with a
``BAD_USER_INPUT`` message). ``tests/test_wire_contract.py`` checks the rules
and that both sides accept and refuse exactly the same inputs.

1. **Metadata**: a map of at most 16 string keys of 1 to 64 characters, each
   to a string of at most 512 characters (``metadata_problem``). The spec
   gives the 16/64/512 and is silent on the empty key; this contract refuses
   it on both sides, as GraphQL always did: an empty key cannot be named in a
   ``metadata[key]`` filter, and a client sending one has a bug to learn about.
2. **Ids**: the store issues ``thread_`` / ``msg_`` + 24 characters of
   ``[A-Za-z0-9]``; it recognises an id by its prefix alone, as the real API
   does (a well-prefixed id it never issued is a 404). The gateway puts an id
   into a URL only if it matches ``ID_PATTERN`` (upstreams' ids are short and
   plain; anything else could name another resource).
3. **Page sizes**: ``limit`` / ``first`` / ``last`` from 1 to 100, 20 by default.
4. **Vocabularies**: message roles and statuses, list orders.
5. **Text**: no lone surrogate anywhere in a JSON value (``"\\ud800"`` is valid
   JSON and no character: it cannot be stored or sent as UTF-8).
6. **Request ids**: an ``X-Request-Id`` a client sends is kept (echoed, logged,
   forwarded) only if it is 1 to 128 characters of ``[A-Za-z0-9._:-]``; any
   other is replaced by a fresh one, so a log line can never be forged with it.
7. **JSON depth**: request bodies nest at most ``MAX_JSON_DEPTH`` levels; the
   deepest valid body of this API nests 7
   (``messages[].attachments[].tools[]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "ID_PATTERN",
    "ISSUED_ID_ALPHABET",
    "ISSUED_ID_LENGTH",
    "LIST_ORDERS",
    "MAX_JSON_DEPTH",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_KEY_LENGTH",
    "MAX_METADATA_VALUE_LENGTH",
    "MAX_PAGE_SIZE",
    "MESSAGE_ID_PREFIX",
    "MESSAGE_ROLES",
    "MESSAGE_STATUSES",
    "MIN_PAGE_SIZE",
    "REQUEST_ID_PATTERN",
    "THREAD_ID_PREFIX",
    "MetadataProblem",
    "is_request_id",
    "json_deeper_than",
    "lone_surrogate_path",
    "metadata_problem",
]

# --- 1. metadata ----------------------------------------------------------------------

MAX_METADATA_KEYS: Final = 16
MAX_METADATA_KEY_LENGTH: Final = 64
MAX_METADATA_VALUE_LENGTH: Final = 512

MetadataRule = Literal[
    "not_a_map",
    "too_many_keys",
    "empty_key",
    "key_too_long",
    "value_not_a_string",
    "value_too_long",
]


@dataclass(frozen=True, slots=True)
class MetadataProblem:
    """The first rule a metadata value breaks, for each side to word its own way."""

    rule: MetadataRule
    key: str | None = None
    """The offending key (``value_*``, ``*_key``), else ``None``."""
    size: int = 0
    """The count or length that broke the limit (keys, key length, value length)."""


def metadata_problem(value: object) -> MetadataProblem | None:
    """``None`` if ``value`` is valid metadata, else the first rule it breaks.

    Keys are checked in order, each key before its value, so both sides report
    the same first problem.
    """
    if not isinstance(value, dict):
        return MetadataProblem("not_a_map")
    if len(value) > MAX_METADATA_KEYS:
        return MetadataProblem("too_many_keys", size=len(value))
    for key, item in value.items():
        if not isinstance(key, str):  # not from JSON; Python callers only
            return MetadataProblem("not_a_map")
        if not key:
            return MetadataProblem("empty_key", key=key)
        if len(key) > MAX_METADATA_KEY_LENGTH:
            return MetadataProblem("key_too_long", key=key, size=len(key))
        if not isinstance(item, str):
            return MetadataProblem("value_not_a_string", key=key)
        if len(item) > MAX_METADATA_VALUE_LENGTH:
            return MetadataProblem("value_too_long", key=key, size=len(item))
    return None


# --- 2. ids ---------------------------------------------------------------------------

THREAD_ID_PREFIX: Final = "thread_"
MESSAGE_ID_PREFIX: Final = "msg_"
ISSUED_ID_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ISSUED_ID_LENGTH: Final = 24
"""Characters after the prefix in an id the store issues."""

ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""An id the gateway will put into an upstream URL (threads, messages, runs, cursors)."""

# --- 3. page sizes --------------------------------------------------------------------

MIN_PAGE_SIZE: Final = 1
MAX_PAGE_SIZE: Final = 100
DEFAULT_PAGE_SIZE: Final = 20

# --- 4. vocabularies ------------------------------------------------------------------

MESSAGE_ROLES: Final = ("user", "assistant")
MESSAGE_STATUSES: Final = ("in_progress", "incomplete", "completed")
LIST_ORDERS: Final = ("asc", "desc")

# --- 5. text --------------------------------------------------------------------------


def lone_surrogate_path(value: object, root: str = "$") -> str | None:
    """Where the first string holding a lone surrogate is (``$.a[2]``), or ``None``.

    Keys count too: a bad key reports the path of its object, and is found
    before anything below it (so a path never holds a bad key). Walked with an
    explicit stack, not recursion, so a value nested thousands of levels deep
    cannot raise ``RecursionError``.
    """
    pending: list[tuple[object, str]] = [(value, root)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return path
        elif isinstance(item, dict):
            children: list[tuple[object, str]] = []
            for key, child in item.items():
                children.append((key, path))
                children.append((child, f"{path}.{key}"))
            pending.extend(reversed(children))  # first key first
        elif isinstance(item, list):
            pending.extend(
                (item[index], f"{path}[{index}]") for index in range(len(item) - 1, -1, -1)
            )
    return None


# --- 6. request ids -------------------------------------------------------------------

REQUEST_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_REQUEST_ID_BYTES: Final = re.compile(REQUEST_ID_PATTERN.pattern.encode())


def is_request_id(value: str | bytes) -> bool:
    """Whether a client's ``X-Request-Id`` (text, or raw ASGI header bytes) may be kept."""
    if isinstance(value, bytes):
        return _REQUEST_ID_BYTES.fullmatch(value) is not None
    return REQUEST_ID_PATTERN.fullmatch(value) is not None


# --- 7. JSON depth --------------------------------------------------------------------

MAX_JSON_DEPTH: Final = 64
"""Levels of arrays and objects a request body may nest (a scalar is level 0)."""


def json_deeper_than(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests more than ``limit`` levels; stops as soon as it does."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False

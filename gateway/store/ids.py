"""Object ids: ``thread_`` / ``msg_`` followed by 24 characters of ``[A-Za-z0-9]``
(the rule is ``gateway.wire_contract``'s).

Ids come from ``secrets`` (about 143 bits each), so they are unguessable and
never collide in practice. An id is drawn as one random integer and written in
base 62: one call into the CSPRNG per id instead of one per character.

The checks only look at the prefix, as the real API does: an id with the right
prefix that the store never issued (including ones holding ``/`` or ``..``) is
simply not found, since ids only ever reach SQLite as bound parameters.
"""

from __future__ import annotations

import secrets

from gateway.store.errors import InvalidRequestError
from gateway.wire_contract import (
    ISSUED_ID_ALPHABET,
    ISSUED_ID_LENGTH,
    MESSAGE_ID_PREFIX,
    THREAD_ID_PREFIX,
)

__all__ = [
    "check_message_id",
    "check_thread_id",
    "new_message_id",
    "new_thread_id",
]

_BASE = len(ISSUED_ID_ALPHABET)
_SPACE = _BASE**ISSUED_ID_LENGTH


def _random_suffix() -> str:
    number = secrets.randbelow(_SPACE)
    chars = []
    for _ in range(ISSUED_ID_LENGTH):
        number, digit = divmod(number, _BASE)
        chars.append(ISSUED_ID_ALPHABET[digit])
    return "".join(chars)


def new_thread_id() -> str:
    """A fresh ``thread_…`` id."""
    return THREAD_ID_PREFIX + _random_suffix()


def new_message_id() -> str:
    """A fresh ``msg_…`` id."""
    return MESSAGE_ID_PREFIX + _random_suffix()


def check_thread_id(value: str, *, param: str = "thread_id") -> str:
    """Return ``value`` if it looks like a thread id, else raise a 400 naming ``param``."""
    if not value.startswith(THREAD_ID_PREFIX):
        raise InvalidRequestError(
            f"Invalid '{param}': '{value}'. Expected an ID that begins with 'thread'.",
            param=param,
        )
    return value


def check_message_id(value: str, *, param: str = "message_id") -> str:
    """Return ``value`` if it looks like a message id, else raise a 400 naming ``param``."""
    if not value.startswith(MESSAGE_ID_PREFIX):
        raise InvalidRequestError(
            f"Invalid '{param}': '{value}'. Expected an ID that begins with 'msg'.",
            param=param,
        )
    return value

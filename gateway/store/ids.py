"""Object ids: ``thread_`` / ``msg_`` followed by 24 characters of ``[A-Za-z0-9]``.

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

__all__ = [
    "MESSAGE_PREFIX",
    "THREAD_PREFIX",
    "check_message_id",
    "check_thread_id",
    "new_message_id",
    "new_thread_id",
]

THREAD_PREFIX = "thread_"
MESSAGE_PREFIX = "msg_"

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LENGTH = 24
_SPACE = len(_ALPHABET) ** _LENGTH


def _random_suffix() -> str:
    number = secrets.randbelow(_SPACE)
    chars = []
    for _ in range(_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def new_thread_id() -> str:
    """A fresh ``thread_…`` id."""
    return THREAD_PREFIX + _random_suffix()


def new_message_id() -> str:
    """A fresh ``msg_…`` id."""
    return MESSAGE_PREFIX + _random_suffix()


def check_thread_id(value: str, *, param: str = "thread_id") -> str:
    """Return ``value`` if it looks like a thread id, else raise a 400 naming ``param``."""
    if not value.startswith(THREAD_PREFIX):
        raise InvalidRequestError(
            f"Invalid '{param}': '{value}'. Expected an ID that begins with 'thread'.",
            param=param,
        )
    return value


def check_message_id(value: str, *, param: str = "message_id") -> str:
    """Return ``value`` if it looks like a message id, else raise a 400 naming ``param``."""
    if not value.startswith(MESSAGE_PREFIX):
        raise InvalidRequestError(
            f"Invalid '{param}': '{value}'. Expected an ID that begins with 'msg'.",
            param=param,
        )
    return value

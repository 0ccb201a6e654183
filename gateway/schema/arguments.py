"""Checks of GraphQL arguments that must fail before any upstream call.

Each failure is a ``GatewayError`` with ``BAD_USER_INPUT`` naming the argument,
so queries get a typed error and mutations can turn it into a ``UserError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, TypeVar

from strawberry import UNSET

from gateway.schema.enums import SortOrder
from gateway.schema.errors import ErrorCode, GatewayError
from gateway.wire_contract import DEFAULT_PAGE_SIZE, ID_PATTERN, MAX_PAGE_SIZE, MIN_PAGE_SIZE

__all__ = [
    "PageKey",
    "PageRequest",
    "RelayWindow",
    "check_id",
    "page_request",
    "relay_window",
]


def check_id(value: str, argument: str) -> str:
    """``value`` if it is a well-formed upstream id, else a ``BAD_USER_INPUT`` error."""
    if ID_PATTERN.fullmatch(value) is None:
        shown = value if len(value) <= 70 else value[:64] + "..."
        raise GatewayError(
            f"Invalid {argument}: {shown!r} is not an id "
            "(1 to 64 characters of A-Z, a-z, 0-9, '_' and '-').",
            ErrorCode.BAD_USER_INPUT,
            {"argument": argument},
        )
    return value


class PageKey(NamedTuple):
    """One upstream ``listMessages`` call; equal keys are one call per operation."""

    thread_id: str
    order: Literal["asc", "desc"]
    after: str | None
    limit: int
    run_id: str | None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A Relay page mapped onto the upstream list.

    Backward pages (``last``/``before``) are asked for as forward pages in the
    opposite order and then reversed: every OpenAI-compatible upstream agrees on
    what ``after`` means, while ``before`` has been implemented differently.
    """

    key: PageKey
    backward: bool
    cursor: str | None


T = TypeVar("T")


def _given(value: T | None) -> T | None:
    return None if value is UNSET else value


def _size(value: int, argument: str) -> int:
    if not MIN_PAGE_SIZE <= value <= MAX_PAGE_SIZE:
        raise GatewayError(
            f"'{argument}' must be between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE}; got {value}.",
            ErrorCode.BAD_USER_INPUT,
            {"argument": argument},
        )
    return value


def _reject(message: str) -> GatewayError:
    return GatewayError(message, ErrorCode.BAD_USER_INPUT)


@dataclass(frozen=True, slots=True)
class RelayWindow:
    """Relay's four arguments, checked: how many, from which cursor, which way."""

    limit: int
    cursor: str | None
    backward: bool


def relay_window(
    *, first: int | None, after: str | None, last: int | None, before: str | None
) -> RelayWindow:
    """The rules of every connection here (DESIGN §4): neither ``first`` nor ``last``
    means ``first: 20``; both lie in 1..100; ``first`` takes ``after``, ``last``
    takes ``before``; any other mix is ``BAD_USER_INPUT``. Cursors are not checked
    here: each connection knows its own."""
    first, last = _given(first), _given(last)
    after, before = _given(after), _given(before)
    if first is not None and last is not None:
        raise _reject("Give 'first' or 'last', not both.")
    if after is not None and before is not None:
        raise _reject("Give 'after' or 'before', not both.")
    if first is not None and before is not None:
        raise _reject("'first' pages forward and takes 'after'; use 'last' with 'before'.")
    if last is not None and after is not None:
        raise _reject("'last' pages backward and takes 'before'; use 'first' with 'after'.")
    if last is not None or before is not None:
        limit = _size(last, "last") if last is not None else DEFAULT_PAGE_SIZE
        return RelayWindow(limit, before, True)
    return RelayWindow(
        _size(first, "first") if first is not None else DEFAULT_PAGE_SIZE, after, False
    )


def page_request(
    thread_id: str,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order: SortOrder,
    run_id: str | None,
) -> PageRequest:
    """Validate Relay arguments and map them to one upstream list call.

    Arguments a query leaves out arrive as ``UNSET``; they count as not given.
    """
    run_id = _given(run_id)
    check_id(thread_id, "threadId")
    window = relay_window(first=first, after=after, last=last, before=before)
    if window.cursor is not None:
        check_id(window.cursor, "before" if window.backward else "after")
    if run_id is not None:
        check_id(run_id, "runId")
    if window.backward:
        wire_order: Literal["asc", "desc"] = "asc" if order is SortOrder.DESC else "desc"
        key = PageKey(thread_id, wire_order, window.cursor, window.limit, run_id)
        return PageRequest(key, True, window.cursor)
    forward_order: Literal["asc", "desc"] = "asc" if order is SortOrder.ASC else "desc"
    key = PageKey(thread_id, forward_order, window.cursor, window.limit, run_id)
    return PageRequest(key, False, window.cursor)

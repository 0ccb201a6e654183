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
    "check_id",
    "page_request",
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
    first, last = _given(first), _given(last)
    after, before, run_id = _given(after), _given(before), _given(run_id)
    check_id(thread_id, "threadId")
    if first is not None and last is not None:
        raise _reject("Give 'first' or 'last', not both.")
    if after is not None and before is not None:
        raise _reject("Give 'after' or 'before', not both.")
    if first is not None and before is not None:
        raise _reject("'first' pages forward and takes 'after'; use 'last' with 'before'.")
    if last is not None and after is not None:
        raise _reject("'last' pages backward and takes 'before'; use 'first' with 'after'.")
    if after is not None:
        check_id(after, "after")
    if before is not None:
        check_id(before, "before")
    if run_id is not None:
        check_id(run_id, "runId")
    backward = last is not None or before is not None
    if backward:
        limit = _size(last, "last") if last is not None else DEFAULT_PAGE_SIZE
        wire_order: Literal["asc", "desc"] = "asc" if order is SortOrder.DESC else "desc"
        return PageRequest(PageKey(thread_id, wire_order, before, limit, run_id), True, before)
    limit = _size(first, "first") if first is not None else DEFAULT_PAGE_SIZE
    forward_order: Literal["asc", "desc"] = "asc" if order is SortOrder.ASC else "desc"
    return PageRequest(PageKey(thread_id, forward_order, after, limit, run_id), False, after)

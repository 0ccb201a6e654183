"""Cursor pagination of a thread's messages, as pure SQL planning.

Messages are ordered by the key ``(created_at, seq)``: ``created_at`` is the
Unix second of creation and ``seq`` the insertion sequence (the SQLite rowid),
which breaks the many ties that whole seconds produce. The key is total and
never changes, so a cursor (a message id) pins one exact place in the list.

In the requested order (``asc`` or ``desc``):

- no cursor: the first ``limit`` messages;
- ``after=X``: the first ``limit`` messages after X;
- ``before=X``: the ``limit`` messages closest to X on its before-side, still
  presented in the requested order (so walking back with ``first_id`` of each
  page visits every message once);
- ``after=A&before=B``: the window strictly between the two cursors, walked
  forward from A: the first ``limit`` messages after A that lie before B. The
  official SDKs' auto-pagination sends this: a list started with ``before=B``
  asks for its next page as ``after=<last_id>&before=B`` (the original query
  plus the new cursor), so each further page stays inside the window and the
  walk ends at B. A window whose B does not lie after A is empty.

``has_more`` says whether more messages lie beyond the page in the direction
of travel: past its end for ``after`` and for no cursor, before its start for
``before``, and between its end and B for a window. The query fetches
``limit + 1`` rows to know that without a count.

A cursor must be a message of the same thread; otherwise the request is a 400
naming ``after`` or ``before`` (see ``repository``). An unknown cursor is an
error rather than an empty page so that a client walking a list while the
cursor message is deleted learns it lost its place instead of silently
stopping early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Cursor", "PagePlan", "cursor_kind", "plan_page"]

Cursor = Literal["after", "before", "window"]
"""Which cursors a page request carries: ``window`` is ``after`` and ``before`` together."""


def cursor_kind(*, after: str | None, before: str | None) -> Cursor | None:
    """The kind of page asked for, from the cursors present."""
    if after is not None and before is not None:
        return "window"
    if after is not None:
        return "after"
    return None if before is None else "before"


@dataclass(frozen=True, slots=True)
class PagePlan:
    """How to fetch one page: the SQL, and whether the fetched rows come out reversed."""

    sql: str
    reverse: bool


def plan_page(
    *,
    order: Literal["asc", "desc"],
    cursor: Cursor | None,
    by_run: bool,
    columns: str,
) -> PagePlan:
    """Plan the page query.

    Parameters of the returned SQL, in order: thread id, then the ``created_at``
    and ``seq`` of each cursor (``after``'s first for a window), then the run id
    (when ``by_run``), then the row limit (``limit + 1``).
    """
    forward = order == "asc"
    if cursor == "before":
        # Walk away from the cursor (the opposite direction), then flip the rows.
        forward = not forward
    sql_order = "ASC" if forward else "DESC"
    ahead, behind = (">", "<") if forward else ("<", ">")
    where = ["thread_id = ?"]
    if cursor is not None:
        where.append(f"(created_at, seq) {ahead} (?, ?)")
    if cursor == "window":  # and short of the before-cursor
        where.append(f"(created_at, seq) {behind} (?, ?)")
    if by_run:
        where.append("run_id = ?")
    sql = (
        f"SELECT {columns} FROM messages WHERE {' AND '.join(where)} "  # noqa: S608 (constants)
        f"ORDER BY created_at {sql_order}, seq {sql_order} LIMIT ?"
    )
    return PagePlan(sql=sql, reverse=cursor == "before")

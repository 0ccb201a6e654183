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
  page visits every message once).

``has_more`` says whether more messages lie beyond the page in the direction
of travel: past its end for the first two cases, before its start for
``before``. The query fetches ``limit + 1`` rows to know that without a count.

A cursor must be a message of the same thread; otherwise the request is a 400
naming ``after`` or ``before`` (see ``repository``). An unknown cursor is an
error rather than an empty page so that a client walking a list while the
cursor message is deleted learns it lost its place instead of silently
stopping early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PagePlan", "plan_page"]


@dataclass(frozen=True, slots=True)
class PagePlan:
    """How to fetch one page: the SQL, and whether the fetched rows come out reversed."""

    sql: str
    reverse: bool


def plan_page(
    *,
    order: Literal["asc", "desc"],
    cursor: Literal["after", "before"] | None,
    by_run: bool,
    columns: str,
) -> PagePlan:
    """Plan the page query.

    Parameters of the returned SQL, in order: thread id, then the cursor's
    ``created_at`` and ``seq`` (when ``cursor``), then the run id (when
    ``by_run``), then the row limit (``limit + 1``).
    """
    forward = order == "asc"
    if cursor == "before":
        # Walk away from the cursor (the opposite direction), then flip the rows.
        forward = not forward
    sql_order = "ASC" if forward else "DESC"
    where = ["thread_id = ?"]
    if cursor is not None:
        where.append(f"(created_at, seq) {'>' if forward else '<'} (?, ?)")
    if by_run:
        where.append("run_id = ?")
    sql = (
        f"SELECT {columns} FROM messages WHERE {' AND '.join(where)} "  # noqa: S608 (constants)
        f"ORDER BY created_at {sql_order}, seq {sql_order} LIMIT ?"
    )
    return PagePlan(sql=sql, reverse=cursor == "before")

"""What the store keeps, as named rows: the values every backend reads and writes.

A row holds the stored form of an object: scalars as they are, and content,
attachments, metadata, tool resources and incomplete details as the compact
JSON text they were validated into (``wire.dump``), so rendering a response
splices text instead of decoding and encoding it again (see ``wire``).

The column lists the backends select are derived from the fields here, so a
row and its SQL cannot drift apart: one fact, one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["MESSAGE_COLUMNS", "THREAD_COLUMNS", "MessagePage", "MessageRow", "ThreadRow"]


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """One stored thread."""

    id: str
    created_at: int
    metadata: str  # JSON object
    tool_resources: str  # JSON object


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One stored message."""

    id: str
    thread_id: str
    created_at: int
    role: str
    status: str
    content: str  # JSON array of content parts
    attachments: str  # JSON array
    metadata: str  # JSON object
    assistant_id: str | None
    run_id: str | None
    completed_at: int | None
    incomplete_at: int | None
    incomplete_details: str | None  # JSON object


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of a thread's messages, in the requested order (see ``pagination``)."""

    rows: tuple[MessageRow, ...]
    has_more: bool


THREAD_COLUMNS = ", ".join(field.name for field in fields(ThreadRow))
"""The ``threads`` columns of a ``ThreadRow``, in field order: ``ThreadRow(*row)``."""

MESSAGE_COLUMNS = ", ".join(field.name for field in fields(MessageRow))
"""The ``messages`` columns of a ``MessageRow``, in field order: ``MessageRow(*row)``."""

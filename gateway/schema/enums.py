"""GraphQL enums. Their values are the upstream's wire strings, so mapping is ``Enum(value)``."""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = [
    "AttachmentTool",
    "ImageDetail",
    "IncompleteReason",
    "MessageRole",
    "MessageStatus",
    "SortOrder",
    "ThreadOrderField",
    "UserErrorCode",
]


@strawberry.enum
class MessageRole(Enum):
    USER = "user"
    ASSISTANT = "assistant"


@strawberry.enum
class MessageStatus(Enum):
    IN_PROGRESS = "in_progress"
    INCOMPLETE = "incomplete"
    COMPLETED = "completed"


@strawberry.enum
class IncompleteReason(Enum):
    CONTENT_FILTER = "content_filter"
    MAX_TOKENS = "max_tokens"
    RUN_CANCELLED = "run_cancelled"
    RUN_EXPIRED = "run_expired"
    RUN_FAILED = "run_failed"


@strawberry.enum
class SortOrder(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum
class ImageDetail(Enum):
    AUTO = "auto"
    LOW = "low"
    HIGH = "high"


@strawberry.enum
class AttachmentTool(Enum):
    CODE_INTERPRETER = "code_interpreter"
    FILE_SEARCH = "file_search"


@strawberry.enum
class UserErrorCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"


@strawberry.enum(description="What viewer.threads is ordered by (ties: by thread id).")
class ThreadOrderField(Enum):
    CREATED_AT = "created_at"
    LAST_ACTIVITY = "last_activity_at"

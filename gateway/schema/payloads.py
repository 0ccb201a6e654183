"""Mutation payloads and ``UserError``: the expected failures of a mutation, as data."""

from __future__ import annotations

import strawberry
from strawberry import ID

from gateway.schema.enums import UserErrorCode
from gateway.schema.types import Message, Thread

__all__ = [
    "CreateMessagePayload",
    "CreateThreadPayload",
    "DeleteMessagePayload",
    "DeleteThreadPayload",
    "UpdateMessagePayload",
    "UpdateThreadPayload",
    "UserError",
]


@strawberry.type
class UserError:
    code: UserErrorCode
    message: str
    field: list[str] | None = strawberry.field(description="Path into the mutation's input.")


@strawberry.type
class CreateThreadPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateThreadPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteThreadPayload:
    deleted_thread_id: ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateMessagePayload:
    message: Message | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateMessagePayload:
    message: Message | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteMessagePayload:
    deleted_message_id: ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

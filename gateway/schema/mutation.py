"""The root ``Mutation``.

Expected failures (input the upstream would reject, an unknown thread or
message, an upstream 400) come back as ``userErrors`` with a null object; every
other failure propagates and becomes a GraphQL error with a code (errors.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from gateway.schema.arguments import check_id
from gateway.schema.context import Info
from gateway.schema.costs import upstream_mutation
from gateway.schema.enums import UserErrorCode
from gateway.schema.errors import ErrorCode, GatewayError, safe_upstream_message
from gateway.schema.inputs import (
    CreateMessageInput,
    CreateThreadInput,
    DeleteMessageInput,
    DeleteThreadInput,
    InvalidInputError,
    UpdateMessageInput,
    UpdateThreadInput,
    message_body,
    thread_body,
)
from gateway.schema.payloads import (
    CreateMessagePayload,
    CreateThreadPayload,
    DeleteMessagePayload,
    DeleteThreadPayload,
    UpdateMessagePayload,
    UpdateThreadPayload,
    UserError,
)
from gateway.schema.types import Message, Thread
from gateway.upstream import (
    BadRequestError,
    DeletedObject,
    InvalidIdError,
    JSONObject,
    NotFoundError,
    UnprocessableEntityError,
)

__all__ = ["Mutation"]

T = TypeVar("T")

# Upstream parameter names, as named by the mutation inputs.
_FIELD_OF_PARAM = {
    "thread_id": "threadId",
    "message_id": "id",
    "tool_resources": "toolResources",
}


def _field_of(param: str | None) -> list[str] | None:
    if not param:
        return None
    parts = param.replace("[", ".").replace("]", "").split(".")
    return [_FIELD_OF_PARAM.get(part, part) for part in parts if part]


def _deleted_id(deleted: DeletedObject, field: list[str]) -> str:
    """The deleted object's id, unless the upstream answered ``deleted: false``."""
    if not deleted["deleted"]:
        raise InvalidInputError(field, "The upstream did not delete it.")
    return deleted["id"]


async def _attempt(
    call: Callable[[], Awaitable[T]], *, thread_field: str = "id", id_field: str = "id"
) -> T | list[UserError]:
    """Run a mutation's upstream work; expected failures become user errors.

    ``thread_field`` and ``id_field`` name the input fields holding the thread id
    and the target's own id, so a 404 points at the id that was not found.
    """
    try:
        return await call()
    except InvalidInputError as problem:
        return [UserError(code=UserErrorCode.INVALID, message=problem.message, field=problem.field)]
    except GatewayError as error:
        if error.code != ErrorCode.BAD_USER_INPUT:
            raise
        argument = error.extensions.get("argument")
        return [
            UserError(
                code=UserErrorCode.INVALID,
                message=error.message,
                field=[argument] if argument else None,
            )
        ]
    except InvalidIdError as error:
        field = thread_field if error.param == "thread_id" else id_field
        return [UserError(code=UserErrorCode.INVALID, message=str(error), field=[field])]
    except NotFoundError as error:
        message = safe_upstream_message(error.body and error.body.get("message"), "Not found.")
        return [
            UserError(
                code=UserErrorCode.NOT_FOUND,
                message=message,
                field=[thread_field if message.startswith("No thread") else id_field],
            )
        ]
    except (BadRequestError, UnprocessableEntityError) as error:
        body = error.body
        return [
            UserError(
                code=UserErrorCode.INVALID,
                message=safe_upstream_message(body and body.get("message"), "Invalid input."),
                field=_field_of(body and body.get("param")),
            )
        ]


@strawberry.type
class Mutation:
    @upstream_mutation()
    async def create_thread(
        self,
        info: Info,
        input: CreateThreadInput = CreateThreadInput(),  # noqa: B008
    ) -> CreateThreadPayload:
        loaders = info.context.loaders

        async def create() -> Thread:
            return Thread.from_wire(await loaders.create_thread(thread_body(input)))

        result = await _attempt(create)
        if isinstance(result, list):
            return CreateThreadPayload(user_errors=result)
        return CreateThreadPayload(thread=result)

    @upstream_mutation()
    async def update_thread(self, info: Info, input: UpdateThreadInput) -> UpdateThreadPayload:
        loaders = info.context.loaders

        async def update() -> Thread:
            thread_id = check_id(input.id, "id")
            return Thread.from_wire(await loaders.update_thread(thread_id, thread_body(input)))

        result = await _attempt(update)
        if isinstance(result, list):
            return UpdateThreadPayload(user_errors=result)
        return UpdateThreadPayload(thread=result)

    @upstream_mutation()
    async def delete_thread(self, info: Info, input: DeleteThreadInput) -> DeleteThreadPayload:
        loaders = info.context.loaders

        async def delete() -> str:
            return _deleted_id(await loaders.delete_thread(check_id(input.id, "id")), ["id"])

        result = await _attempt(delete)
        if isinstance(result, list):
            return DeleteThreadPayload(user_errors=result)
        return DeleteThreadPayload(deleted_thread_id=strawberry.ID(result))

    @upstream_mutation()
    async def create_message(self, info: Info, input: CreateMessageInput) -> CreateMessagePayload:
        loaders = info.context.loaders

        async def create() -> Message:
            thread_id = check_id(input.thread_id, "threadId")
            return Message.from_wire(await loaders.create_message(thread_id, message_body(input)))

        result = await _attempt(create, thread_field="threadId", id_field="threadId")
        if isinstance(result, list):
            return CreateMessagePayload(user_errors=result)
        return CreateMessagePayload(message=result)

    @upstream_mutation()
    async def update_message(self, info: Info, input: UpdateMessageInput) -> UpdateMessagePayload:
        loaders = info.context.loaders

        async def update() -> Message:
            thread_id, message_id = check_id(input.thread_id, "threadId"), check_id(input.id, "id")
            body: JSONObject = {"metadata": input.metadata}
            return Message.from_wire(await loaders.update_message(thread_id, message_id, body))

        result = await _attempt(update, thread_field="threadId")
        if isinstance(result, list):
            return UpdateMessagePayload(user_errors=result)
        return UpdateMessagePayload(message=result)

    @upstream_mutation()
    async def delete_message(self, info: Info, input: DeleteMessageInput) -> DeleteMessagePayload:
        loaders = info.context.loaders

        async def delete() -> str:
            thread_id, message_id = check_id(input.thread_id, "threadId"), check_id(input.id, "id")
            return _deleted_id(await loaders.delete_message(thread_id, message_id), ["id"])

        result = await _attempt(delete, thread_field="threadId")
        if isinstance(result, list):
            return DeleteMessagePayload(user_errors=result)
        return DeleteMessagePayload(deleted_message_id=strawberry.ID(result))

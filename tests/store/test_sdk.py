"""The official ``openai`` SDK against a real ``messages-gateway serve`` process.

Every response is also validated against the upstream spec by the client's
event hook (see ``conftest``).
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.store.server import ServerProcess
from tests.store.spec import SpecChecker

pytestmark = pytest.mark.filterwarnings("ignore:The Assistants API is deprecated")

THREAD_ID_LENGTH = len("thread_") + 24
MESSAGE_ID_LENGTH = len("msg_") + 24


def test_empty_thread_round_trip(sdk: openai.OpenAI) -> None:
    created = sdk.beta.threads.create()
    assert created.id.startswith("thread_") and len(created.id) == THREAD_ID_LENGTH
    assert created.id[len("thread_") :].isalnum()
    assert created.object == "thread"
    assert created.metadata == {}
    assert created.tool_resources is not None
    assert created.tool_resources.to_dict() == {}
    fetched = sdk.beta.threads.retrieve(created.id)
    assert fetched == created


def test_update_thread_replaces_metadata_and_tool_resources(sdk: openai.OpenAI) -> None:
    thread = sdk.beta.threads.create(
        metadata={"a": "1", "b": "2"},
        tool_resources={"code_interpreter": {"file_ids": ["file_1"]}},
    )
    assert thread.metadata == {"a": "1", "b": "2"}
    assert thread.tool_resources is not None
    assert thread.tool_resources.to_dict() == {"code_interpreter": {"file_ids": ["file_1"]}}

    updated = sdk.beta.threads.update(thread.id, metadata={"c": "3"})
    assert updated.metadata == {"c": "3"}, "metadata replaces the whole map"
    assert updated.tool_resources is not None
    assert updated.tool_resources.to_dict() == {"code_interpreter": {"file_ids": ["file_1"]}}

    updated = sdk.beta.threads.update(
        thread.id, tool_resources={"file_search": {"vector_store_ids": ["vs_1"]}}
    )
    assert updated.metadata == {"c": "3"}
    assert updated.tool_resources is not None
    assert updated.tool_resources.to_dict() == {"file_search": {"vector_store_ids": ["vs_1"]}}
    assert sdk.beta.threads.retrieve(thread.id) == updated


def test_delete_thread_deletes_its_messages(sdk: openai.OpenAI) -> None:
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "hello"}])
    message = sdk.beta.threads.messages.list(thread.id).data[0]
    deleted = sdk.beta.threads.delete(thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (thread.id, "thread.deleted", True)
    with pytest.raises(openai.NotFoundError) as info:
        sdk.beta.threads.retrieve(thread.id)
    assert info.value.body == {
        "message": f"No thread found with id '{thread.id}'.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.NotFoundError, match="No thread found"):
        sdk.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
    with pytest.raises(openai.NotFoundError):
        sdk.beta.threads.delete(thread.id)


def test_message_round_trip(sdk: openai.OpenAI) -> None:
    thread = sdk.beta.threads.create()
    message = sdk.beta.threads.messages.create(
        thread.id, role="user", content="How does AI work?", metadata={"k": "v"}
    )
    assert message.id.startswith("msg_") and len(message.id) == MESSAGE_ID_LENGTH
    assert message.object == "thread.message"
    assert message.thread_id == thread.id
    assert message.role == "user"
    assert message.status == "completed"
    assert message.completed_at == message.created_at
    assert message.incomplete_at is None and message.incomplete_details is None
    assert message.assistant_id is None and message.run_id is None
    assert message.attachments == []
    assert message.metadata == {"k": "v"}
    assert [part.to_dict() for part in message.content] == [
        {"type": "text", "text": {"value": "How does AI work?", "annotations": []}}
    ]

    assert sdk.beta.threads.messages.retrieve(message.id, thread_id=thread.id) == message

    updated = sdk.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={"x": "y"})
    assert updated.metadata == {"x": "y"}
    assert updated.content == message.content

    deleted = sdk.beta.threads.messages.delete(message.id, thread_id=thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (
        message.id,
        "thread.message.deleted",
        True,
    )
    with pytest.raises(openai.NotFoundError) as info:
        sdk.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
    assert info.value.body["message"] == f"No message found with id '{message.id}'."


def test_content_parts_and_attachments(sdk: openai.OpenAI) -> None:
    thread = sdk.beta.threads.create()
    message = sdk.beta.threads.messages.create(
        thread.id,
        role="assistant",
        content=[
            {"type": "text", "text": "Look:"},
            {"type": "image_file", "image_file": {"file_id": "file_img", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
        attachments=[
            {"file_id": "file_a", "tools": [{"type": "code_interpreter"}]},
            {"file_id": "file_b", "tools": [{"type": "file_search"}]},
        ],
    )
    assert message.role == "assistant"
    assert [part.to_dict() for part in message.content] == [
        {"type": "text", "text": {"value": "Look:", "annotations": []}},
        {"type": "image_file", "image_file": {"file_id": "file_img", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    assert [a.to_dict() for a in message.attachments or []] == [
        {"file_id": "file_a", "tools": [{"type": "code_interpreter"}]},
        {"file_id": "file_b", "tools": [{"type": "file_search"}]},
    ]
    assert sdk.beta.threads.messages.retrieve(message.id, thread_id=thread.id) == message


def test_list_both_orders_and_auto_pagination(sdk: openai.OpenAI) -> None:
    """130 messages: 70 created with the thread (one transaction: all the same second),
    60 one by one. Auto-pagination with limit=100 walks both orders completely."""
    initial = [{"role": "user", "content": f"initial {i}"} for i in range(70)]
    thread = sdk.beta.threads.create(messages=initial)
    texts = [f"initial {i}" for i in range(70)]
    for i in range(60):
        sdk.beta.threads.messages.create(thread.id, role="assistant", content=f"later {i}")
        texts.append(f"later {i}")

    def text_of(message: openai.types.beta.threads.Message) -> str:
        part = message.content[0]
        assert part.type == "text"
        return part.text.value

    first_page = sdk.beta.threads.messages.list(thread.id, limit=100)
    assert len(first_page.data) == 100 and first_page.has_more is True

    newest_first = [text_of(m) for m in sdk.beta.threads.messages.list(thread.id, limit=100)]
    assert newest_first == texts[::-1]
    oldest_first = [
        text_of(m) for m in sdk.beta.threads.messages.list(thread.id, limit=100, order="asc")
    ]
    assert oldest_first == texts

    default_page = sdk.beta.threads.messages.list(thread.id)
    assert len(default_page.data) == 20, "limit defaults to 20"
    assert [text_of(m) for m in default_page.data] == texts[::-1][:20]

    cursor = default_page.data[-1].id
    after_page = sdk.beta.threads.messages.list(thread.id, after=cursor, limit=5)
    assert [text_of(m) for m in after_page.data] == texts[::-1][20:25]
    before_page = sdk.beta.threads.messages.list(thread.id, before=cursor, limit=5)
    assert [text_of(m) for m in before_page.data] == texts[::-1][14:19]


def test_sdk_raises_bad_request_with_the_parameter(sdk: openai.OpenAI) -> None:
    thread = sdk.beta.threads.create()
    with pytest.raises(openai.BadRequestError) as info:
        sdk.beta.threads.messages.list(thread.id, limit=0)
    assert info.value.param == "limit"
    assert info.value.type == "invalid_request_error"

    with pytest.raises(openai.BadRequestError) as info:
        sdk.beta.threads.retrieve("abc")
    assert info.value.body["message"] == (
        "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'."
    )
    assert info.value.param == "thread_id"

    with pytest.raises(openai.BadRequestError) as info:
        sdk.beta.threads.messages.retrieve("abc", thread_id=thread.id)
    assert info.value.body["message"] == (
        "Invalid 'message_id': 'abc'. Expected an ID that begins with 'msg'."
    )

    with pytest.raises(openai.BadRequestError) as info:
        sdk.beta.threads.update(thread.id, metadata={f"k{i}": "v" for i in range(17)})
    assert info.value.param == "metadata"
    assert sdk.beta.threads.retrieve(thread.id).metadata == {}

    with pytest.raises(openai.BadRequestError) as info:
        sdk.beta.threads.messages.create(thread.id, role="user", content=[])
    assert info.value.param == "content"
    assert sdk.beta.threads.messages.list(thread.id).data == []


def test_openai_beta_header_is_optional(server: ServerProcess, sdk: openai.OpenAI) -> None:
    thread = sdk.beta.threads.create()  # the SDK sends OpenAI-Beta: assistants=v2
    without = httpx.get(f"{server.base_url}/v1/threads/{thread.id}")
    with_header = httpx.get(
        f"{server.base_url}/v1/threads/{thread.id}", headers={"OpenAI-Beta": "assistants=v2"}
    )
    assert without.status_code == with_header.status_code == 200
    assert without.json() == with_header.json() == thread.to_dict()


# --- auto-pagination with ``before``: the SDK sends ``after`` and ``before`` together ---


def _list_requests(server: ServerProcess, spec_checker: SpecChecker, thread_id: str) -> Any:
    """An SDK whose every list request of ``thread_id`` is recorded (its query), and the record."""
    sent: list[dict[str, str]] = []

    def record(request: httpx.Request) -> None:
        if request.url.path.endswith(f"/threads/{thread_id}/messages"):
            sent.append(dict(request.url.params))

    http_client = httpx.Client(
        event_hooks={"request": [record], "response": [spec_checker.sync_hook]}, timeout=30.0
    )
    client = openai.OpenAI(
        base_url=f"{server.base_url}/v1", api_key="anything", max_retries=0, http_client=http_client
    )
    return client, sent


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_auto_pagination_started_with_before_runs_to_its_end(
    server: ServerProcess, spec_checker: SpecChecker, sdk: openai.OpenAI, order: str
) -> None:
    """A list started with ``before=X`` is the page closest to X; the SDK then asks for
    ``after=<last_id>&before=X`` (a 400 in 0.1) and stops at the window's empty end."""
    thread = sdk.beta.threads.create(
        messages=[{"role": "user", "content": f"m{i}"} for i in range(12)]
    )
    listed = [m.id for m in sdk.beta.threads.messages.list(thread.id, order=order, limit=100)]
    assert len(listed) == 12
    client, sent = _list_requests(server, spec_checker, thread.id)
    with client:
        yielded = [
            m.id
            for m in client.beta.threads.messages.list(
                thread.id, order=order, limit=3, before=listed[8]
            )
        ]
    assert yielded == listed[5:8], "the three closest to the cursor, in the requested order"
    assert len(sent) == 2, "page 2 was fetched"
    assert sent[1] == {"order": order, "limit": "3", "before": listed[8], "after": listed[7]}


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_auto_pagination_walks_a_window_page_by_page(
    server: ServerProcess, spec_checker: SpecChecker, sdk: openai.OpenAI, order: str
) -> None:
    """``after=A&before=B`` with a small limit: every message between A and B, once, in
    order, over several pages each sent with both cursors."""
    thread = sdk.beta.threads.create(
        messages=[{"role": "user", "content": f"m{i}"} for i in range(15)]
    )
    listed = [m.id for m in sdk.beta.threads.messages.list(thread.id, order=order, limit=100)]
    client, sent = _list_requests(server, spec_checker, thread.id)
    with client:
        yielded = [
            m.id
            for m in client.beta.threads.messages.list(
                thread.id, order=order, limit=3, after=listed[1], before=listed[13]
            )
        ]
    assert yielded == listed[2:13]
    assert len(sent) == 4, "11 messages at 3 a page"
    assert all(query["before"] == listed[13] for query in sent)
    assert [query["after"] for query in sent] == [listed[1], listed[4], listed[7], listed[10]]

"""Wire objects, secrets and small helpers shared by the upstream client tests.

The secrets and the host have distinctive values so that tests can assert they
never leak into exception messages or logs.
"""

from __future__ import annotations

from typing import Any

from gateway.upstream import CallRecord, UpstreamClient, UpstreamSession

HOST = "upstream-secret-host.example.test"
UPSTREAM = f"https://{HOST}/v1"
SERVER_KEY = "sk-server-key-0123456789abcdef"
CALLER_TOKEN = "caller-token-fedcba9876543210"
REQUEST_ID = "req_gateway_1"

THREAD: dict[str, Any] = {
    "id": "thread_abc",
    "object": "thread",
    "created_at": 1_700_000_000,
    "metadata": {"topic": "tests"},
    "tool_resources": {},
}
MESSAGE: dict[str, Any] = {
    "id": "msg_1",
    "object": "thread.message",
    "created_at": 1_700_000_001,
    "thread_id": "thread_abc",
    "status": "completed",
    "incomplete_details": None,
    "completed_at": 1_700_000_001,
    "incomplete_at": None,
    "role": "user",
    "content": [{"type": "text", "text": {"value": "hello", "annotations": []}}],
    "assistant_id": None,
    "run_id": None,
    "attachments": [],
    "metadata": {},
}
MESSAGE_LIST: dict[str, Any] = {
    "object": "list",
    "data": [MESSAGE],
    "first_id": "msg_1",
    "last_id": "msg_1",
    "has_more": False,
}
DELETED_THREAD: dict[str, Any] = {"id": "thread_abc", "object": "thread.deleted", "deleted": True}
DELETED_MESSAGE: dict[str, Any] = {
    "id": "msg_1",
    "object": "thread.message.deleted",
    "deleted": True,
}


class FakeClock:
    """A monotonic clock that only moves when told to (or when ``sleep`` is awaited)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Records(list[CallRecord]):
    """An observer that keeps what it is told."""

    def __call__(self, record: CallRecord) -> None:
        self.append(record)


def open_session(
    client: UpstreamClient,
    *,
    caller_token: str | None = None,
    max_calls: int = 50,
    concurrency: int = 10,
    deadline: float = 60.0,
    observer: Records | None = None,
) -> UpstreamSession:
    return client.session(
        caller_token=caller_token,
        request_id=REQUEST_ID,
        max_calls=max_calls,
        concurrency=concurrency,
        deadline=deadline,
        observer=observer,
    )


def error_envelope(message: str = "boom", type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": "thread_id", "code": None}}

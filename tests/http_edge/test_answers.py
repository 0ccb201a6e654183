"""``gateway.http_edge._answers``: the edge's refusals in the caller's media type and envelope."""

from __future__ import annotations

import json

from starlette.types import Message, Scope

from gateway.http_edge._answers import EdgeRefusalError, refuse


async def refused(path: str, accept: str | None) -> tuple[dict[bytes, bytes], dict[str, object]]:
    headers = [(b"accept", accept.encode())] if accept is not None else []
    scope: Scope = {"type": "http", "path": path, "headers": headers}
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await refuse(scope, send, EdgeRefusalError(413, "Too large.", "REQUEST_TOO_LARGE", maximum=9))
    start, body = sent
    assert start["status"] == 413
    return dict(start["headers"]), json.loads(body["body"])


async def test_graphql_refusal_in_the_accepted_media_type_without_data() -> None:
    headers, body = await refused("/graphql", "application/graphql-response+json")
    assert headers[b"content-type"] == b"application/graphql-response+json"
    assert body == {
        "errors": [
            {"message": "Too large.", "extensions": {"code": "REQUEST_TOO_LARGE", "maximum": 9}}
        ]
    }
    headers, _ = await refused("/graphql", None)
    assert headers[b"content-type"] == b"application/json"


async def test_store_refusal_is_the_openai_envelope_in_json() -> None:
    headers, body = await refused("/v1/threads", "application/graphql-response+json")
    assert headers[b"content-type"] == b"application/json"
    assert body["error"]["code"] == "request_too_large"  # type: ignore[index]

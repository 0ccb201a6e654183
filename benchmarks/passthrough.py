"""The yardstick: a minimal hand-written REST passthrough making the gateway's upstream calls.

What a developer would write instead of the gateway for the benchmark's four
screens: a FastAPI app, one ``httpx.AsyncClient`` (same pool limits as the
gateway's), ``asyncio.gather`` where calls are independent (at most 10 in
flight, like the gateway), and the very JSON the GraphQL query's ``data`` holds
(the harness checks they are equal). No validation, no error mapping, no
retries: the cheapest honest code for the same calls and the same answer.

``PASSTHROUGH_UPSTREAM_URL`` is the upstream base URL ending in ``/v1``; served by
``python -m uvicorn benchmarks.passthrough:app`` with the same uvicorn defaults
as ``messages-gateway serve``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

HEADERS = {"OpenAI-Beta": "assistants=v2", "Authorization": "Bearer bench"}
CONCURRENCY = 10  # the gateway's default upstream_concurrency


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=30)
    async with httpx.AsyncClient(
        base_url=os.environ["PASSTHROUGH_UPSTREAM_URL"], headers=HEADERS, limits=limits
    ) as http:
        app.state.http = http
        yield


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


def _time(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(raw: dict[str, Any]) -> dict[str, Any]:
    parts = raw["content"]
    return {
        "id": raw["id"],
        "role": raw["role"].upper(),
        "createdAt": _time(raw["created_at"]),
        "text": "\n".join(p["text"]["value"] for p in parts if p["type"] == "text"),
    }


def _chat_message(raw: dict[str, Any]) -> dict[str, Any]:
    content = [
        {"__typename": "TextContent", "value": p["text"]["value"]}
        if p["type"] == "text"
        else {"__typename": "UnknownContent"}
        for p in raw["content"]
    ]
    return {**_message(raw), "content": content}


async def _get(http: httpx.AsyncClient, url: str, **params: Any) -> dict[str, Any]:
    response = await http.get(url, params=params or None)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


@app.get("/chat/{thread_id}")
async def chat(request: Request, thread_id: str) -> JSONResponse:
    """The thread and its newest 20 messages, oldest first."""
    http = request.app.state.http
    thread, page = await asyncio.gather(
        _get(http, f"/threads/{thread_id}"),
        _get(http, f"/threads/{thread_id}/messages", limit=20, order="desc"),
    )
    edges = [{"cursor": m["id"], "node": _chat_message(m)} for m in reversed(page["data"])]
    return JSONResponse(
        {
            "thread": {
                "id": thread["id"],
                "metadata": thread["metadata"],
                "createdAt": _time(thread["created_at"]),
                "messages": {
                    "edges": edges,
                    "pageInfo": {
                        "hasPreviousPage": page["has_more"],
                        "startCursor": edges[0]["cursor"] if edges else None,
                    },
                },
            }
        }
    )


@app.get("/sidebar")
async def sidebar(request: Request, ids: str = Query()) -> JSONResponse:
    """Each thread, with its newest message."""
    http = request.app.state.http

    async def entry(thread_id: str) -> dict[str, Any]:
        thread, page = await asyncio.gather(
            _get(http, f"/threads/{thread_id}"),
            _get(http, f"/threads/{thread_id}/messages", limit=1, order="desc"),
        )
        return {
            "id": thread["id"],
            "metadata": thread["metadata"],
            "messages": {"nodes": [_message(m) for m in page["data"]]},
        }

    gate = asyncio.Semaphore(CONCURRENCY // 2)  # two calls per entry: CONCURRENCY in flight

    async def gated(thread_id: str) -> dict[str, Any]:
        async with gate:
            return await entry(thread_id)

    return JSONResponse({"threads": await asyncio.gather(*map(gated, ids.split(",")))})


@app.get("/messages/{thread_id}")
async def messages(request: Request, thread_id: str, ids: str = Query()) -> JSONResponse:
    """Messages by id, at most ``CONCURRENCY`` calls in flight."""
    http = request.app.state.http
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(message_id: str) -> dict[str, Any]:
        async with gate:
            return _message(await _get(http, f"/threads/{thread_id}/messages/{message_id}"))

    found = await asyncio.gather(*(one(i) for i in ids.split(",")))
    return JSONResponse({f"m{n}": message for n, message in enumerate(found)})


@app.get("/page/{thread_id}")
async def page(
    request: Request, thread_id: str, limit: int = 50, after: str | None = None
) -> JSONResponse:
    """One page of a thread, oldest first, with its cursor."""
    params: dict[str, Any] = {"limit": limit, "order": "asc"}
    if after:
        params["after"] = after
    body = await _get(request.app.state.http, f"/threads/{thread_id}/messages", **params)
    edges = [{"cursor": m["id"], "node": _message(m)} for m in body["data"]]
    return JSONResponse(
        {
            "messages": {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": body["has_more"],
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
            }
        }
    )


def _upper(value: str | None) -> str | None:
    return value.upper() if isinstance(value, str) else None


def _annotation_like_mesh(raw: dict[str, Any]) -> dict[str, Any] | None:
    kind = raw.get("type")
    if kind not in ("file_citation", "file_path"):
        return None
    return {
        "__typename": "FileCitationAnnotation" if kind == "file_citation" else "FilePathAnnotation",
        "text": raw.get("text", ""),
        "startIndex": raw.get("start_index", 0),
        "endIndex": raw.get("end_index", 0),
        "fileId": (raw.get(kind) or {}).get("file_id", ""),
    }


def _part_like_mesh(raw: dict[str, Any]) -> dict[str, Any]:
    kind = raw["type"]
    if kind == "text":
        found = map(_annotation_like_mesh, raw["text"].get("annotations") or ())
        return {
            "__typename": "TextContent",
            "value": raw["text"]["value"],
            "annotations": [a for a in found if a],
        }
    if kind == "image_file":
        image = raw["image_file"]
        return {
            "__typename": "ImageFileContent",
            "fileId": image["file_id"],
            "detail": _upper(image.get("detail")),
        }
    if kind == "image_url":
        image = raw["image_url"]
        return {
            "__typename": "ImageUrlContent",
            "url": image["url"],
            "detail": _upper(image.get("detail")),
        }
    if kind == "refusal":
        return {"__typename": "RefusalContent", "refusal": raw["refusal"]}
    return {"__typename": "UnknownContent"}


def _message_like_mesh(raw: dict[str, Any]) -> dict[str, Any]:
    details = raw.get("incomplete_details")
    return {
        "id": raw["id"],
        "threadId": raw["thread_id"],
        "createdAt": _time(raw["created_at"]),
        "completedAt": _time(raw.get("completed_at")),
        "incompleteAt": _time(raw.get("incomplete_at")),
        "incompleteDetails": {"reason": details["reason"].upper()} if details else None,
        "role": raw["role"].upper(),
        "status": raw["status"].upper(),
        "assistantId": raw.get("assistant_id"),
        "runId": raw.get("run_id"),
        "metadata": raw.get("metadata") or {},
        "attachments": [{"fileId": a.get("file_id")} for a in raw.get("attachments") or ()],
        "content": [_part_like_mesh(p) for p in raw["content"]],
    }


def _tool_resources(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    code, search = raw.get("code_interpreter"), raw.get("file_search")
    return {
        "codeInterpreter": {"fileIds": list(code.get("file_ids") or [])}
        if isinstance(code, dict)
        else None,
        "fileSearch": {"vectorStoreIds": list(search.get("vector_store_ids") or [])}
        if isinstance(search, dict)
        else None,
    }


@app.get("/chat-like-mesh/{thread_id}")
async def chat_like_mesh(request: Request, thread_id: str) -> JSONResponse:
    """The side-by-side chat screen (``operations.CHAT_LIKE_MESH``): every field, newest 20."""
    http = request.app.state.http
    thread, page = await asyncio.gather(
        _get(http, f"/threads/{thread_id}"),
        _get(http, f"/threads/{thread_id}/messages", limit=20, order="desc"),
    )
    return JSONResponse(
        {
            "thread": {
                "__typename": "Thread",
                "id": thread["id"],
                "createdAt": _time(thread["created_at"]),
                "metadata": thread.get("metadata") or {},
                "toolResources": _tool_resources(thread.get("tool_resources")),
                "messages": {
                    "pageInfo": {
                        "hasNextPage": page["has_more"],
                        "startCursor": page["first_id"],
                        "endCursor": page["last_id"],
                    },
                    "nodes": [_message_like_mesh(m) for m in page["data"]],
                },
            }
        }
    )

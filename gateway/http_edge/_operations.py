"""``WellFormedOperations``: a ``/graphql`` request is one well-formed operation, or a 400.

Why here: strawberry turns a body it cannot read (invalid UTF-8, a number past
Python's 4,300-digit limit, JSON nested past the recursion limit, a top-level
``null``, string or number) into a **500** with a stack trace, and odd ``GET``
parameters into ``text/plain``. Every such request is refused here with a
**400** and a GraphQL-shaped body (``BAD_USER_INPUT``; a JSON array without
``ALLOW_BATCHING`` is ``BATCHING_DISABLED``), so the router only sees what it
can handle. Checked:

- the body decodes as UTF-8 and parses as JSON, at most ``MAX_JSON_DEPTH`` deep;
- it is an object (or, with batching on, an array of objects) whose ``query``
  is a string, ``operationName`` a string or null, ``variables`` and
  ``extensions`` objects or null;
- for ``GET``: the query string decodes as UTF-8, and ``variables`` and
  ``extensions`` parse as above.

The body was bounded in size and time by ``BoundedBody`` (outside this piece);
it is read whole here and replayed to the app. A single operation, once checked, is
also left in the request's state (``checked_operation``): the router takes it from
there instead of decoding the same JSON a second time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from gateway.errors import ErrorCode
from gateway.http_edge._answers import EdgeRefusalError, refuse
from gateway.wire_contract import MAX_JSON_DEPTH, json_deeper_than

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["WellFormedOperations", "check_body", "check_query_string", "checked_operation"]

_CHECKED = "gateway.checked_operation"
"""Where, in the ASGI scope's ``state``, a checked single operation is left."""

_WHITESPACE = b" \t\r\n"


def _bad(message: str) -> EdgeRefusalError:
    return EdgeRefusalError(400, message, ErrorCode.BAD_USER_INPUT)


def _parse_json(text: str, what: str) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise _bad(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from None
    except json.JSONDecodeError as exc:
        raise _bad(f"{what} is not valid JSON: {exc.msg} at position {exc.pos}.") from None
    except ValueError:  # int() past sys.get_int_max_str_digits()
        raise _bad(f"{what} holds a number with too many digits.") from None
    if json_deeper_than(value):
        raise _bad(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
    return value


def _check_operation(operation: object, where: str) -> None:
    if not isinstance(operation, dict):
        raise _bad(f"{where} must be a JSON object with a 'query' string.")
    if not isinstance(operation.get("query"), str):
        raise _bad(f"{where} must have a 'query' string.")
    if not isinstance(operation.get("operationName"), str | None):
        raise _bad(f"{where}: 'operationName' must be a string or null.")
    for key in ("variables", "extensions"):
        if not isinstance(operation.get(key), dict | None):
            raise _bad(f"{where}: '{key}' must be an object or null.")


def check_body(body: bytes, *, allow_batching: bool) -> Any:
    """The parsed body, or ``EdgeRefusalError`` unless ``body`` is one operation (or a
    batch, when allowed)."""
    if not allow_batching and body.lstrip(_WHITESPACE)[:1] == b"[":
        raise EdgeRefusalError(
            400,
            "Batched operations (a JSON array) are not enabled on this gateway; "
            "send one operation per request.",
            ErrorCode.BATCHING_DISABLED,
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("The request body is not valid UTF-8.") from None
    parsed = _parse_json(text, "The request body")
    if isinstance(parsed, list):
        if not parsed:
            raise _bad("The batch holds no operation.")
        for index, operation in enumerate(parsed):
            _check_operation(operation, f"Operation {index} of the batch")
        return parsed
    _check_operation(parsed, "The request body")
    return parsed


def checked_operation(scope: Scope) -> dict[str, Any] | None:
    """The single operation ``WellFormedOperations`` parsed and checked for this request
    (``query`` a string; ``operationName`` a string or null; ``variables`` and
    ``extensions`` objects or null), or ``None``: not checked here (a GET, a batch,
    another media type), the router reads the request itself."""
    state = scope.get("state")
    return state.get(_CHECKED) if state is not None else None


def check_query_string(query_string: bytes) -> None:
    """Raise ``EdgeRefusalError`` unless a GET's parameters make one well-formed operation."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise _bad("The query string is not valid UTF-8.") from None
    params = dict(pairs)
    if "query" not in params:  # the IDE page, not an operation
        return
    operation: dict[str, object] = {"query": params.get("query")}
    if "operationName" in params:
        operation["operationName"] = params["operationName"]
    for key in ("variables", "extensions"):
        if params.get(key):
            operation[key] = _parse_json(params[key], f"The '{key}' parameter")
    _check_operation(operation, "The request")


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return bool(media == b"application/json" or media.endswith(b"+json"))
    return True  # no Content-Type: strawberry reads it as JSON too


class WellFormedOperations:
    """Refuses malformed operations on ``path`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, allow_batching: bool, path: str) -> None:
        self.app = app
        self.allow_batching = allow_batching
        self.path = path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):
            try:
                check_query_string(scope["query_string"])
            except EdgeRefusalError as refusal:
                await refuse(scope, send, refusal)
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST" or not _is_json(scope):
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # gone, or stopped by BoundedBody
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        del chunks
        try:
            parsed = check_body(body, allow_batching=self.allow_batching)
        except EdgeRefusalError as refusal:
            await refuse(scope, send, refusal)
            return
        if isinstance(parsed, dict):
            scope.setdefault("state", {})[_CHECKED] = parsed

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

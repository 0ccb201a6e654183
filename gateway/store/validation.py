"""Request validation: JSON bodies and query strings in, small frozen values out.

Hand-written rather than generated from the OpenAPI schemas, for three reasons:
the error messages must read like the real API's and name the exact parameter
(``messages[0].content[1].image_url.url``); the spec leaves several real limits
to prose (metadata sizes, ``limit`` range), which a schema validator would miss;
and this runs on the event loop for every request, so it must be cheap.

Stricter than the spec in one respect, like the real API: unknown fields are
rejected at every depth, not only at the top level where the spec says
``additionalProperties: false``. Validation finishes before anything is written,
so a rejected request never stores anything.

The values produced are already normalised to the stored wire shape: a plain
string ``content`` becomes one text part with empty annotations, defaults are
filled in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

from gateway.store.errors import InvalidRequestError
from gateway.store.ids import check_message_id
from gateway.wire_contract import (
    DEFAULT_PAGE_SIZE,
    LIST_ORDERS,
    MAX_JSON_DEPTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_PAGE_SIZE,
    MESSAGE_ROLES,
    MIN_PAGE_SIZE,
    json_deeper_than,
    lone_surrogate_path,
    metadata_problem,
)

__all__ = [
    "ListQuery",
    "MessageChanges",
    "NewMessage",
    "NewThread",
    "ThreadChanges",
    "list_query",
    "message_changes",
    "new_message",
    "new_thread",
    "parse_json_body",
    "thread_changes",
]

JSONObject = dict[str, Any]

CODE_INTERPRETER_MAX_FILES = 20
FILE_SEARCH_MAX_VECTOR_STORES = 1

_IMAGE_DETAILS = ("auto", "low", "high")
_TOOL_TYPES = ("code_interpreter", "file_search")
_PART_TYPES = ("text", "image_file", "image_url")
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A validated createMessage body (also one item of createThread's ``messages``)."""

    role: str
    content: list[JSONObject]
    attachments: list[JSONObject]
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class NewThread:
    """A validated createThread body."""

    messages: tuple[NewMessage, ...]
    metadata: dict[str, str]
    tool_resources: JSONObject


@dataclass(frozen=True, slots=True)
class ThreadChanges:
    """A validated modifyThread body; ``None`` means "leave as it is"."""

    metadata: dict[str, str] | None
    tool_resources: JSONObject | None


@dataclass(frozen=True, slots=True)
class MessageChanges:
    """A validated modifyMessage body; ``None`` means "leave as it is"."""

    metadata: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Validated listMessages query parameters."""

    limit: int = DEFAULT_PAGE_SIZE
    order: Literal["asc", "desc"] = "desc"
    after: str | None = None
    before: str | None = None
    run_id: str | None = None


# --- error helpers ------------------------------------------------------------------


def _kind(value: object) -> str:
    """The JSON type of ``value`` with its article, as the real API words it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _quote_list(values: tuple[str, ...]) -> str:
    quoted = [f"'{value}'" for value in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _bad_type(param: str, expected: str, value: object) -> NoReturn:
    raise InvalidRequestError(
        f"Invalid type for '{param}': expected {expected}, but got {_kind(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _bad_value(param: str, value: object, supported: tuple[str, ...]) -> NoReturn:
    raise InvalidRequestError(
        f"Invalid value: '{value}'. Supported values are: {_quote_list(supported)}.",
        param=param,
        code="invalid_value",
    )


def _missing(param: str) -> NoReturn:
    raise InvalidRequestError(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _only(obj: JSONObject, allowed: frozenset[str], prefix: str) -> None:
    for key in obj:
        if key not in allowed:
            param = _join(prefix, key)
            raise InvalidRequestError(
                f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter"
            )


def _object(value: object, param: str) -> JSONObject:
    if not isinstance(value, dict):
        _bad_type(param, "an object", value)
    return value


def _string(value: object, param: str, *, non_empty: bool = False) -> str:
    if not isinstance(value, str):
        _bad_type(param, "a string", value)
    if non_empty and not value:
        raise InvalidRequestError(
            f"Invalid '{param}': empty string. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            param=param,
            code="empty_string",
        )
    return value


def _string_array(value: object, param: str, *, max_items: int) -> list[str]:
    if not isinstance(value, list):
        _bad_type(param, "an array of strings", value)
    if len(value) > max_items:
        raise InvalidRequestError(
            f"Invalid '{param}': array too long. Expected an array with maximum length "
            f"{max_items}, but got an array with length {len(value)} instead.",
            param=param,
            code="array_above_max_length",
        )
    return [_string(item, f"{param}[{index}]") for index, item in enumerate(value)]


def _choice(value: object, param: str, supported: tuple[str, ...]) -> str:
    text = _string(value, param)
    if text not in supported:
        _bad_value(param, text, supported)
    return text


# --- bodies -------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _too_deep() -> InvalidRequestError:
    return InvalidRequestError(
        "We could not parse the JSON body of your request: it is nested too deeply "
        f"(more than {MAX_JSON_DEPTH} levels).",
    )


def parse_json_body(body: bytes) -> JSONObject:
    """Decode a request body; an empty body counts as ``{}`` (``curl -d ''`` works).

    A body nested deeper than the contract's ``MAX_JSON_DEPTH`` is refused (a valid
    body of this API nests 7 levels at most). JSON may spell a lone UTF-16
    surrogate (``"\\ud800"``), which is no character and cannot be stored as
    UTF-8 text: such a body is refused. That check only runs when the raw bytes
    hold such an escape, so it costs nothing usually.
    """
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except ValueError:
        raise InvalidRequestError(
            "We could not parse the JSON body of your request. The API expects a JSON "
            "payload, but what was sent was not valid JSON.",
        ) from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise _too_deep() from None
    if json_deeper_than(value):
        raise _too_deep()
    if _SURROGATE_ESCAPE.search(body) and lone_surrogate_path(value) is not None:
        raise InvalidRequestError(
            "Invalid body: it holds a lone surrogate escape (\\ud800-\\udfff), "
            "which is not a Unicode character.",
            code="invalid_value",
        )
    if not isinstance(value, dict):
        raise InvalidRequestError(
            f"Invalid type for request body: expected an object, but got {_kind(value)} instead.",
            code="invalid_type",
        )
    return value


def _metadata(value: object, param: str) -> dict[str, str] | None:
    """Metadata by ``wire_contract.metadata_problem``, refused in the real API's words."""
    if value is None:
        return None
    mapping = _object(value, param)
    problem = metadata_problem(mapping)
    if problem is None:
        return dict(mapping)
    key = problem.key
    if problem.rule == "too_many_keys":
        raise InvalidRequestError(
            f"Invalid '{param}': too many properties. Expected an object with at most "
            f"{MAX_METADATA_KEYS} properties, but got an object with {problem.size} "
            "properties instead.",
            param=param,
            code="object_above_max_properties",
        )
    if problem.rule == "empty_key":
        raise InvalidRequestError(
            f"Invalid '{param}': empty key. Expected keys of at least 1 character, "
            "but got an empty key instead.",
            param=param,
            code="empty_string",
        )
    if problem.rule == "key_too_long":
        raise InvalidRequestError(
            f"Invalid '{param}': key too long. Expected keys of at most "
            f"{MAX_METADATA_KEY_LENGTH} characters, but got a key with length "
            f"{problem.size} instead.",
            param=param,
            code="string_above_max_length",
        )
    if problem.rule == "value_not_a_string":
        raise InvalidRequestError(
            f"Invalid type for '{param}.{key}': expected a string, but got "
            f"{_kind(mapping.get(key or ''))} instead.",
            param=param,
            code="invalid_type",
        )
    raise InvalidRequestError(  # value_too_long ("not_a_map" cannot come from JSON)
        f"Invalid '{param}.{key}': string too long. Expected a string with maximum "
        f"length {MAX_METADATA_VALUE_LENGTH}, but got a string with length "
        f"{problem.size} instead.",
        param=param,
        code="string_above_max_length",
    )


def _text_part(text: str) -> JSONObject:
    return {"type": "text", "text": {"value": text, "annotations": []}}


def _image_detail(image: JSONObject, param: str) -> dict[str, str]:
    if "detail" not in image:
        return {}
    return {"detail": _choice(image["detail"], _join(param, "detail"), _IMAGE_DETAILS)}


def _image_url(value: object, param: str) -> str:
    """An absolute http(s) URL or a ``data:`` URL, the two kinds the real API fetches."""
    url = _string(value, param, non_empty=True)
    parts = urlsplit(url)
    valid = (parts.scheme in ("http", "https") and bool(parts.netloc)) or (
        parts.scheme == "data" and bool(parts.path)
    )
    if not valid or any(char.isspace() for char in url):
        raise InvalidRequestError(
            f"Invalid '{param}': expected an absolute http(s) or data URL.",
            param=param,
            code="invalid_value",
        )
    return url


def _content_part(value: object, param: str) -> JSONObject:
    part = _object(value, param)
    if "type" not in part:
        _missing(_join(param, "type"))
    kind = _choice(part["type"], _join(param, "type"), _PART_TYPES)
    _only(part, frozenset(("type", kind)), param)
    if kind not in part:
        _missing(_join(param, kind))
    body_param = _join(param, kind)
    if kind == "text":
        return _text_part(_string(part["text"], body_param, non_empty=True))
    image = _object(part[kind], body_param)
    if kind == "image_file":
        _only(image, frozenset(("file_id", "detail")), body_param)
        if "file_id" not in image:
            _missing(_join(body_param, "file_id"))
        file_id = _string(image["file_id"], _join(body_param, "file_id"), non_empty=True)
        return {
            "type": "image_file",
            "image_file": {"file_id": file_id, **_image_detail(image, body_param)},
        }
    _only(image, frozenset(("url", "detail")), body_param)
    if "url" not in image:
        _missing(_join(body_param, "url"))
    url = _image_url(image["url"], _join(body_param, "url"))
    return {"type": "image_url", "image_url": {"url": url, **_image_detail(image, body_param)}}


def _content(value: object, param: str) -> list[JSONObject]:
    if isinstance(value, str):
        return [_text_part(_string(value, param, non_empty=True))]
    if not isinstance(value, list):
        _bad_type(param, "one of a string or an array of content parts", value)
    if not value:
        raise InvalidRequestError(
            f"Invalid '{param}': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param=param,
            code="empty_array",
        )
    return [_content_part(part, f"{param}[{index}]") for index, part in enumerate(value)]


def _attachments(value: object, param: str) -> list[JSONObject]:
    if value is None:
        return []
    if not isinstance(value, list):
        _bad_type(param, "an array of objects", value)
    result: list[JSONObject] = []
    for index, item in enumerate(value):
        item_param = f"{param}[{index}]"
        attachment = _object(item, item_param)
        _only(attachment, frozenset(("file_id", "tools")), item_param)
        for required in ("file_id", "tools"):
            if required not in attachment:
                _missing(_join(item_param, required))
        file_id = _string(attachment["file_id"], _join(item_param, "file_id"), non_empty=True)
        tools_param = _join(item_param, "tools")
        if not isinstance(attachment["tools"], list):
            _bad_type(tools_param, "an array of objects", attachment["tools"])
        tools: list[JSONObject] = []
        for tool_index, tool_value in enumerate(attachment["tools"]):
            tool_param = f"{tools_param}[{tool_index}]"
            tool = _object(tool_value, tool_param)
            _only(tool, frozenset(("type",)), tool_param)
            if "type" not in tool:
                _missing(_join(tool_param, "type"))
            tools.append({"type": _choice(tool["type"], _join(tool_param, "type"), _TOOL_TYPES)})
        result.append({"file_id": file_id, "tools": tools})
    return result


_MESSAGE_FIELDS = frozenset(("role", "content", "attachments", "metadata"))


def new_message(body: JSONObject, *, prefix: str = "") -> NewMessage:
    """Validate a createMessage body (``prefix`` locates it inside a createThread body)."""
    _only(body, _MESSAGE_FIELDS, prefix)
    for required in ("role", "content"):
        if required not in body:
            _missing(_join(prefix, required))
    return NewMessage(
        role=_choice(body["role"], _join(prefix, "role"), MESSAGE_ROLES),
        content=_content(body["content"], _join(prefix, "content")),
        attachments=_attachments(body.get("attachments"), _join(prefix, "attachments")),
        metadata=_metadata(body.get("metadata"), _join(prefix, "metadata")) or {},
    )


def _tool_resources(value: object, *, creating: bool) -> JSONObject | None:
    """``tool_resources``: file ids for code_interpreter, vector store ids for file_search.

    On createThread the spec also offers ``file_search.vector_stores``, a helper
    that creates a vector store from file ids on the fly. The embedded store has
    no files or vector stores to create, and silently dropping the request would
    leave the caller believing a vector store exists, so it is rejected with a
    400 naming ``tool_resources.file_search.vector_stores``.
    """
    param = "tool_resources"
    if value is None:
        return None
    resources = _object(value, param)
    _only(resources, frozenset(("code_interpreter", "file_search")), param)
    result: JSONObject = {}
    if "code_interpreter" in resources:
        ci_param = f"{param}.code_interpreter"
        code_interpreter = _object(resources["code_interpreter"], ci_param)
        _only(code_interpreter, frozenset(("file_ids",)), ci_param)
        file_ids = _string_array(
            code_interpreter.get("file_ids", []),
            f"{ci_param}.file_ids",
            max_items=CODE_INTERPRETER_MAX_FILES,
        )
        result["code_interpreter"] = {"file_ids": file_ids}
    if "file_search" in resources:
        fs_param = f"{param}.file_search"
        file_search = _object(resources["file_search"], fs_param)
        if creating and "vector_stores" in file_search:
            raise InvalidRequestError(
                f"'{fs_param}.vector_stores' is not supported by the embedded store: it has "
                "no vector stores to create. Create the vector store elsewhere and pass "
                f"its id in '{fs_param}.vector_store_ids'.",
                param=f"{fs_param}.vector_stores",
                code="unsupported_parameter",
            )
        _only(file_search, frozenset(("vector_store_ids",)), fs_param)
        if creating and "vector_store_ids" not in file_search:
            _missing(f"{fs_param}.vector_store_ids")
        vector_store_ids = _string_array(
            file_search.get("vector_store_ids", []),
            f"{fs_param}.vector_store_ids",
            max_items=FILE_SEARCH_MAX_VECTOR_STORES,
        )
        result["file_search"] = {"vector_store_ids": vector_store_ids}
    return result


_THREAD_FIELDS = frozenset(("messages", "metadata", "tool_resources"))


def new_thread(body: JSONObject) -> NewThread:
    """Validate a createThread body; every field is optional."""
    _only(body, _THREAD_FIELDS, "")
    messages: tuple[NewMessage, ...] = ()
    if "messages" in body:
        items = body["messages"]
        if not isinstance(items, list):
            _bad_type("messages", "an array of objects", items)
        messages = tuple(
            new_message(_object(item, f"messages[{index}]"), prefix=f"messages[{index}]")
            for index, item in enumerate(items)
        )
    return NewThread(
        messages=messages,
        metadata=_metadata(body.get("metadata"), "metadata") or {},
        tool_resources=_tool_resources(body.get("tool_resources"), creating=True) or {},
    )


def thread_changes(body: JSONObject) -> ThreadChanges:
    """Validate a modifyThread body. A field that is absent or null is left unchanged."""
    _only(body, frozenset(("metadata", "tool_resources")), "")
    return ThreadChanges(
        metadata=_metadata(body.get("metadata"), "metadata"),
        tool_resources=_tool_resources(body.get("tool_resources"), creating=False),
    )


def message_changes(body: JSONObject) -> MessageChanges:
    """Validate a modifyMessage body: only ``metadata`` can change."""
    _only(body, frozenset(("metadata",)), "")
    return MessageChanges(metadata=_metadata(body.get("metadata"), "metadata"))


# --- query string -------------------------------------------------------------------


def _limit(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise InvalidRequestError(
            f"Invalid 'limit': expected an integer, but got '{text}' instead.",
            param="limit",
            code="invalid_type",
        )
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > len(str(MAX_PAGE_SIZE)):
        # Out of range whatever the digits, and int() would refuse more than 4300
        # of them (sys.int_max_str_digits): judged by its sign, shown by its length.
        shown = f"a {len(digits)}-digit integer"
        below = text.startswith("-")
        above = not below
    else:
        limit = int(digits or "0") * (-1 if text.startswith("-") else 1)  # "000…0101" too
        shown = str(limit)
        below = limit < MIN_PAGE_SIZE
        above = limit > MAX_PAGE_SIZE
    if below:
        raise InvalidRequestError(
            f"Invalid 'limit': integer below minimum value. Expected a value >= {MIN_PAGE_SIZE}, "
            f"but got {shown} instead.",
            param="limit",
            code="integer_below_min_value",
        )
    if above:
        raise InvalidRequestError(
            f"Invalid 'limit': integer above maximum value. Expected a value <= {MAX_PAGE_SIZE}, "
            f"but got {shown} instead.",
            param="limit",
            code="integer_above_max_value",
        )
    return limit


def list_query(params: Mapping[str, str]) -> ListQuery:
    """Validate listMessages' query parameters.

    An empty value (``?after=``) counts as absent and unknown parameters are
    ignored. ``after`` together with ``before`` selects the window between the
    two cursors (see ``pagination``).
    """
    limit = params.get("limit") or None
    order = params.get("order") or "desc"
    if order not in LIST_ORDERS:
        _bad_value("order", order, LIST_ORDERS)
    after = params.get("after") or None
    before = params.get("before") or None
    if after is not None:
        check_message_id(after, param="after")
    if before is not None:
        check_message_id(before, param="before")
    return ListQuery(
        limit=DEFAULT_PAGE_SIZE if limit is None else _limit(limit),
        order="asc" if order == "asc" else "desc",
        after=after,
        before=before,
        run_id=params.get("run_id") or None,
    )

"""Message content parts and text annotations, read from the upstream's JSON.

An upstream that adds a content part type must not break queries, so any part
this gateway does not know becomes ``UnknownContent`` with its raw JSON; an
annotation of an unknown type is left out (the ``Annotation`` union has no
catch-all member in the contract).
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from gateway.schema.enums import ImageDetail
from gateway.schema.scalars import JSON

__all__ = [
    "Annotation",
    "FileCitationAnnotation",
    "FilePathAnnotation",
    "ImageFileContent",
    "ImageUrlContent",
    "MessageContent",
    "RefusalContent",
    "TextContent",
    "UnknownContent",
    "content_from_wire",
    "text_of",
]


@strawberry.type
class FileCitationAnnotation:
    text: str
    start_index: int
    end_index: int
    file_id: str


@strawberry.type
class FilePathAnnotation:
    text: str
    start_index: int
    end_index: int
    file_id: str


Annotation = Annotated[FileCitationAnnotation | FilePathAnnotation, strawberry.union("Annotation")]


@strawberry.type
class TextContent:
    value: str
    annotations: list[Annotation]


@strawberry.type
class ImageFileContent:
    file_id: str
    detail: ImageDetail | None


@strawberry.type
class ImageUrlContent:
    url: str
    detail: ImageDetail | None


@strawberry.type
class RefusalContent:
    refusal: str


@strawberry.type(description="A content part of a type this gateway does not know yet.")
class UnknownContent:
    type: str
    raw: JSON


MessageContent = Annotated[
    TextContent | ImageFileContent | ImageUrlContent | RefusalContent | UnknownContent,
    strawberry.union("MessageContent"),
]


def _detail(value: object) -> ImageDetail | None:
    try:
        return ImageDetail(value)
    except ValueError:
        return None


def _annotation(raw: dict[str, Any]) -> FileCitationAnnotation | FilePathAnnotation | None:
    kind = raw.get("type")
    if kind == "file_citation":
        cls: type[FileCitationAnnotation] | type[FilePathAnnotation] = FileCitationAnnotation
        target = raw.get("file_citation") or {}
    elif kind == "file_path":
        cls = FilePathAnnotation
        target = raw.get("file_path") or {}
    else:
        return None
    return cls(
        text=raw.get("text", ""),
        start_index=raw.get("start_index", 0),
        end_index=raw.get("end_index", 0),
        file_id=target.get("file_id", ""),
    )


def _part(
    raw: dict[str, Any],
) -> TextContent | ImageFileContent | ImageUrlContent | RefusalContent | UnknownContent:
    kind = raw.get("type")
    try:
        if kind == "text":
            text = raw["text"]
            annotations = [a for a in map(_annotation, text.get("annotations") or ()) if a]
            return TextContent(value=text["value"], annotations=annotations)
        if kind == "image_file":
            image = raw["image_file"]
            return ImageFileContent(file_id=image["file_id"], detail=_detail(image.get("detail")))
        if kind == "image_url":
            image = raw["image_url"]
            return ImageUrlContent(url=image["url"], detail=_detail(image.get("detail")))
        if kind == "refusal":
            return RefusalContent(refusal=raw["refusal"])
    except (KeyError, TypeError, AttributeError):
        pass  # a known type with an unexpected shape is still shown, raw
    return UnknownContent(type=str(kind), raw=JSON(raw))


def content_from_wire(
    parts: list[dict[str, Any]],
) -> list[TextContent | ImageFileContent | ImageUrlContent | RefusalContent | UnknownContent]:
    """The typed content parts of an upstream message, in order."""
    return [_part(part) for part in parts]


def text_of(parts: list[dict[str, Any]]) -> str:
    """The values of the text parts, in order, joined by a newline."""
    if len(parts) == 1:  # most messages: one text part, its value as it is
        text = parts[0].get("text") if parts[0].get("type") == "text" else None
        value = text.get("value") if isinstance(text, dict) else None
        return value if isinstance(value, str) else ""
    values: list[str] = []
    for part in parts:
        if part.get("type") == "text":
            text = part.get("text")
            if isinstance(text, dict) and isinstance(text.get("value"), str):
                values.append(text["value"])
    return "\n".join(values)

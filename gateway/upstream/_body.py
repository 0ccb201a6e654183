"""Reading one upstream answer, decoded, with a ceiling on its size.

An upstream that streams forever, or sends three megabytes of gzip that inflate
to three gigabytes, must cost the gateway at most ``limit`` bytes of memory and
the time to receive them. So the session sends the request with ``stream=True``
and reads the answer here, stopping as soon as the decoded size passes the limit.

The raw stream is inflated here rather than by httpx: httpx's decoders inflate a
whole network chunk in one call (gzip reaches ~1000x, so 64 KiB read can be 64 MiB
produced before anyone looks), whereas ``zlib``'s ``max_length`` never produces more
than the room left. Only ``identity``, ``gzip`` and ``deflate`` are decoded: the
session's ``Accept-Encoding`` offers exactly those, and any other encoding (``br``,
``zstd``, a chain) is refused instead of being decoded without a bound.

A body that cannot be had whole is not an exception here: ``Answer.problem`` says
why (over the limit, an encoding refused, corrupt compression) and the session turns
that into ``UpstreamResponseError`` for a 2xx, or drops the error envelope of a
non-2xx (the status still says what happened).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import httpx

__all__ = ["ACCEPT_ENCODING", "DEFAULT_MAX_RESPONSE_BYTES", "ERROR_BODY_LIMIT", "Answer", "read"]

ACCEPT_ENCODING = "gzip, deflate"
"""The content codings the session offers, and the only ones ``read`` decodes."""

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""64 MiB: a page of 100 messages averaging 640 KiB of JSON each. See the README."""

ERROR_BODY_LIMIT = 64 * 1024
"""An error envelope is a few hundred bytes; past this one is not worth reading."""


@dataclass(frozen=True, slots=True)
class Answer:
    """An upstream response whose body has been read (all of it, or up to a problem)."""

    status: int
    headers: httpx.Headers
    content: bytes
    problem: str | None = None
    """Why ``content`` is not the body: ``None`` when it is the whole decoded body."""


class _Inflater:
    """zlib output in bounded steps; ``deflate`` falls back to raw DEFLATE as httpx does."""

    __slots__ = ("_decompressor", "_first", "_raw_fallback")

    def __init__(self, coding: str) -> None:
        wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
        self._decompressor = zlib.decompressobj(wbits)
        self._raw_fallback = coding == "deflate"
        self._first = True

    def step(self, data: bytes, max_length: int) -> tuple[bytes, bytes]:
        """Up to ``max_length`` (> 0) decoded bytes, and the input left unconsumed."""
        try:
            out = self._decompressor.decompress(data, max_length)
        except zlib.error:
            if not (self._first and self._raw_fallback):
                raise
            self._raw_fallback = False
            self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._decompressor.decompress(data, max_length)
        self._first = False
        return out, self._decompressor.unconsumed_tail


def _coding(headers: httpx.Headers) -> str | None:
    """The one content coding to undo (``""``: none), or ``None`` when it is not one we decode."""
    codings = [
        value.strip().lower()
        for value in headers.get("content-encoding", "").split(",")
        if value.strip() and value.strip().lower() != "identity"
    ]
    if not codings:
        return ""
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    return None


def _declared_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def read(response: httpx.Response, limit: int) -> Answer:
    """Read ``response``'s body decoded, stopping once it passes ``limit`` bytes.

    The caller owns ``response`` and must close it (which drops a connection whose
    body was not read to the end). Transport errors while reading propagate.
    """
    status, headers = response.status_code, response.headers
    coding = _coding(headers)
    if coding is None:
        return Answer(status, headers, b"", "a content encoding it was not offered")
    declared = _declared_length(headers)
    if coding == "" and declared is not None and declared > limit:
        return Answer(status, headers, b"", f"a body larger than {limit} bytes")
    inflater = _Inflater(coding) if coding else None
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_raw():
            data = chunk
            while data:
                room = limit - size
                if inflater is None:
                    out, data = data[: room + 1], b""
                else:
                    out, data = inflater.step(data, room + 1)
                size += len(out)
                if size > limit:
                    return Answer(status, headers, b"", f"a body larger than {limit} bytes")
                parts.append(out)
    except zlib.error:
        return Answer(status, headers, b"", f"a corrupt {coding} body")
    return Answer(status, headers, b"".join(parts))

"""The JSON encoder of ``/graphql`` responses: ``orjson``, with the standard library behind it.

Strawberry encodes every response with ``json.dumps``; on this machine that is about
0.2 ms for the 10 kB chat screen, ``orjson`` about 0.02 ms (BENCHMARKS.md). The
output is the same JSON document, written more compactly: non-ASCII characters as
UTF-8 rather than ``\\u`` escapes (the response is ``application/json``, UTF-8).

Whatever ``orjson`` refuses (an integer beyond 64 bits or a non-string key in a
``JSON`` scalar's value, a lone surrogate in a string) is encoded by ``json.dumps``
as before, so no response that encoded before fails now. ``NaN`` and infinities,
which ``json.dumps`` would write as invalid JSON, become ``null``.
"""

from __future__ import annotations

import json

import orjson

__all__ = ["encode_response"]


def encode_response(data: object) -> bytes:
    """``data`` (a GraphQL response: dicts, lists, strings, numbers) as JSON bytes."""
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, separators=(",", ":")).encode()

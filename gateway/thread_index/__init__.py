"""The thread index: which caller owns which thread, and its last activity (DESIGN §4b).

It answers ``Query.viewer.threads`` from the state database (the store's
database: ``GATEWAY_STORE_URL`` / ``STORE_PATH``) with one keyset query per page.
Two sources behind one protocol (``source.ThreadIndex``):

- ``embedded.EmbeddedThreadIndex``: on the embedded store, exact: triggers keep
  the index in every write's transaction (``gateway.store.thread_index_schema``),
  and a page carries the stored threads themselves, so it needs no upstream call;
- ``recorded.RecordedThreadIndex``: over a remote upstream, what this gateway
  created, wrote, read or polled, written by ``recorder.ThreadRecorder`` from the
  loaders' results; a page's metadata comes from the upstream (the thread loader).

``memo.IndexMemo`` keeps the recorder from writing a sighting the index already
holds; ``cursors`` makes the opaque keyset cursors.
"""

from gateway.thread_index.cursors import InvalidCursorError, decode_cursor, encode_cursor
from gateway.thread_index.embedded import EmbeddedThreadIndex
from gateway.thread_index.memo import IndexMemo
from gateway.thread_index.recorded import RecordedThreadIndex
from gateway.thread_index.recorder import ThreadRecorder
from gateway.thread_index.source import SORT_KEYS, ThreadIndex, ThreadPage, ThreadPageQuery

__all__ = [
    "SORT_KEYS",
    "EmbeddedThreadIndex",
    "IndexMemo",
    "InvalidCursorError",
    "RecordedThreadIndex",
    "ThreadIndex",
    "ThreadPage",
    "ThreadPageQuery",
    "ThreadRecorder",
    "decode_cursor",
    "encode_cursor",
]

"""The benchmark's frontend operations, as GraphQL documents and as passthrough requests.

Each ``Screen`` knows its upstream-call minimum (the distinct resources it
needs) and its critical path in round trips (dependency depth, times the waves
the per-operation concurrency cap imposes), so the harness can compare what the
gateway did with what was unavoidable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

CONCURRENCY = 10  # the gateway's default upstream_concurrency
PAGE_SIZE = 50

CHAT = """query Chat($t: ID!) {
  thread(id: $t) {
    id metadata createdAt
    messages(last: 20, order: ASC) {
      edges { cursor node { id role createdAt text
                            content { __typename ... on TextContent { value } } } }
      pageInfo { hasPreviousPage startCursor }
    }
  }
}"""

SIDEBAR = """query Sidebar($ids: [ID!]!) {
  threads(ids: $ids) {
    id metadata
    messages(first: 1) { nodes { id role createdAt text } }
  }
}"""

PAGE = """query Page($t: ID!, $after: String) {
  messages(threadId: $t, first: PAGE_SIZE, after: $after, order: ASC) {
    edges { cursor node { id role createdAt text } }
    pageInfo { hasNextPage endCursor }
  }
}""".replace("PAGE_SIZE", str(PAGE_SIZE))


def aliases_query(count: int) -> str:
    """``count`` aliased ``message`` fields, one variable each."""
    params = ", ".join(f"$m{n}: ID!" for n in range(count))
    fields = "\n  ".join(
        f"m{n}: message(threadId: $t, id: $m{n}) {{ id role createdAt text }}" for n in range(count)
    )
    return f"query Aliases($t: ID!, {params}) {{\n  {fields}\n}}"


@dataclass(frozen=True)
class Request:
    """One HTTP request to the gateway (a GraphQL POST) and its passthrough twin (a GET)."""

    graphql: dict[str, Any]
    rest: str


@dataclass
class Screen:
    """A frontend screen: one request, or a chain of requests (pagination)."""

    name: str
    what: str
    minimum_calls: int
    depth: int  # upstream round trips on the critical path
    requests: list[Request] = field(default_factory=list)


@dataclass
class Fixture:
    long_thread: str
    long_messages: list[str]  # oldest first
    sidebar_threads: list[str]


def screens(data: Fixture) -> list[Screen]:
    thread = data.long_thread
    ids = data.sidebar_threads
    picked = data.long_messages[: 30 * 10 : 10][:30]
    walk_pages = math.ceil(len(data.long_messages) / PAGE_SIZE)
    return [
        Screen(
            "chat",
            "thread + its newest 20 messages with content",
            minimum_calls=2,
            depth=1,  # the page is named by the thread id: no need to wait for the thread
            requests=[Request({"query": CHAT, "variables": {"t": thread}}, f"/chat/{thread}")],
        ),
        Screen(
            "sidebar",
            f"threads(ids:) of {len(ids)} threads, newest message of each",
            minimum_calls=2 * len(ids),
            depth=math.ceil(2 * len(ids) / CONCURRENCY),  # all independent; the cap makes waves
            requests=[
                Request(
                    {"query": SIDEBAR, "variables": {"ids": ids}}, "/sidebar?ids=" + ",".join(ids)
                )
            ],
        ),
        Screen(
            "aliases",
            f"{len(picked)} aliased message(threadId:, id:) fields, distinct messages",
            minimum_calls=len(picked),
            depth=math.ceil(len(picked) / CONCURRENCY),
            requests=[
                Request(
                    {
                        "query": aliases_query(len(picked)),
                        "variables": {"t": thread, **{f"m{n}": m for n, m in enumerate(picked)}},
                    },
                    f"/messages/{thread}?ids=" + ",".join(picked),
                )
            ],
        ),
        Screen(
            "pagination",
            f"walk a {len(data.long_messages)}-message thread, {PAGE_SIZE} per page "
            f"({walk_pages} requests)",
            minimum_calls=walk_pages,
            depth=walk_pages,
            requests=[
                Request(
                    {"query": PAGE, "variables": {"t": thread, "after": after}},
                    f"/page/{thread}?limit={PAGE_SIZE}" + (f"&after={after}" if after else ""),
                )
                for after in [None, *data.long_messages[PAGE_SIZE - 1 :: PAGE_SIZE]][:walk_pages]
            ],
        ),
    ]


CHAT_LIKE_MESH = """query ThreadWithLast20Messages($threadId: ID!) {
  thread(id: $threadId) {
    __typename id createdAt metadata
    toolResources { codeInterpreter { fileIds } fileSearch { vectorStoreIds } }
    messages(first: 20, order: DESC) {
      pageInfo { hasNextPage startCursor endCursor }
      nodes {
        id threadId createdAt completedAt incompleteAt incompleteDetails { reason }
        role status assistantId runId metadata attachments { fileId }
        content {
          __typename
          ... on TextContent { value annotations { __typename
              ... on FileCitationAnnotation { text startIndex endIndex fileId }
              ... on FilePathAnnotation { text startIndex endIndex fileId } } }
          ... on ImageFileContent { fileId detail }
          ... on ImageUrlContent { url detail }
          ... on RefusalContent { refusal }
        }
      }
    }
  }
}"""
"""The chat screen as the side-by-side with GraphQL Mesh asks for it (``benchmarks.side_by_side``).

The same information as the peer's ``queries/thread-with-last-20-messages.graphql``
in this gateway's names: the thread with every field, and its newest 20 messages
with every field and every content and annotation shape. Two upstream GETs, in
parallel, like Mesh's two root fields (``getThread``, ``listMessages``).
"""

"""Relay object identification: ``interface Node``, implemented by ``Thread`` (DESIGN §4b).

Threads are nodes because a thread id alone finds a thread on any upstream;
messages are not (an upstream finds a message only with its thread's id).
"""

from __future__ import annotations

import strawberry
from strawberry import ID

__all__ = ["Node"]


@strawberry.interface(
    description=(
        "Relay object identification. Threads are nodes: a thread id alone finds a thread "
        "on any upstream."
    )
)
class Node:
    id: ID

"""The gateway's GraphQL API on its embedded store, on each backend (black box):
what is written through /graphql is read back through /graphql and through /v1."""

from __future__ import annotations

import httpx

from tests.store.server import ServerProcess

CREATE = """
mutation { createThread(input: {metadata: {team: "blue"}}) { thread { id } userErrors { code } } }
"""
POST = """
mutation($t: ID!, $text: String!) {
  createMessage(input: {threadId: $t, text: $text}) { message { id } userErrors { code } }
}
"""
READ = """
query($t: ID!) {
  thread(id: $t) { id metadata messages(last: 20, order: ASC) { edges { node { id text } } } }
}
"""


def graphql(server: ServerProcess, query: str, **variables: str) -> dict[str, object]:
    response = httpx.post(
        f"{server.base_url}/graphql",
        json={"query": query, "variables": variables},
        timeout=30.0,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, object] = body["data"]
    return data


def test_write_and_read_through_graphql(server: ServerProcess) -> None:
    created = graphql(server, CREATE)["createThread"]
    assert isinstance(created, dict) and created["userErrors"] == []
    thread_id = created["thread"]["id"]
    posted = [
        graphql(server, POST, t=thread_id, text=f"hello {i}")["createMessage"] for i in range(3)
    ]
    ids = [payload["message"]["id"] for payload in posted]  # type: ignore[index]
    thread = graphql(server, READ, t=thread_id)["thread"]
    assert isinstance(thread, dict) and thread["metadata"] == {"team": "blue"}
    edges = thread["messages"]["edges"]
    assert [edge["node"]["id"] for edge in edges] == ids
    assert [edge["node"]["text"] for edge in edges] == ["hello 0", "hello 1", "hello 2"]
    listed = httpx.get(
        f"{server.base_url}/v1/threads/{thread_id}/messages", params={"order": "asc"}
    ).json()
    assert [message["id"] for message in listed["data"]] == ids

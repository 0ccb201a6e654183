"""A small GraphQL-over-HTTP client for tests, over any httpx.AsyncClient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class GraphQLResponse:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]

    @property
    def upstream_calls(self) -> int:
        """Upstream calls the operation made (the debug-mode accounting extension)."""
        return int(self.body["extensions"]["upstream"]["calls"])


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        operation_name: str | None = None,
    ) -> GraphQLResponse:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name is not None:
            payload["operationName"] = operation_name
        response = await self.http.post(self.path, json=payload, headers=headers or {})
        return GraphQLResponse(response.status_code, response.json())

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """Execute and insist on success: no errors, HTTP 200."""
        result = await self.execute(query, variables, **kw)
        assert result.status == 200, result.body
        assert not result.errors, result.errors
        return result.data

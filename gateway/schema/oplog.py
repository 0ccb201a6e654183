"""One log line per GraphQL operation: what an operator needs at 3 a.m., and no secret.

``gateway.operations`` gets, for every operation, a ``key=value`` line::

    operation request_id=5f0c… name=ChatThread type=query ms=41.7 calls=2 attempts=3
    codes=NOT_FOUND caller=token:1a2b3c4d5e6f

``calls`` are the logical upstream calls, ``attempts`` the HTTP requests sent
(retries included); ``codes`` the distinct ``extensions.code`` values of the
errors, ``-`` when there were none; ``caller`` the authenticated subject, ``-``
when the gateway is open. Never logged: variables, the query text, headers,
tokens, keys or upstream URLs. The operation name is logged only when it is a
well-formed GraphQL name (a caller could otherwise forge log lines).

Must be the first extension of the schema: its exit runs last, after
``ErrorMapping`` has given every error its code.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

__all__ = ["OperationLog"]

logger = logging.getLogger("gateway.operations")

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


def _name(given: object) -> str:
    """A loggable operation name: a GraphQL name (a client may send anything, even 5)."""
    return given if isinstance(given, str) and _NAME.fullmatch(given) else "-"


class OperationLog(SchemaExtension):
    """Logs one structured line when an operation ends, however it ended."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        elapsed = (time.perf_counter() - started) * 1000.0
        context = self.execution_context
        request_context = context.context
        session = getattr(request_context, "session", None)
        result = context.result
        codes = sorted(
            {
                str((error.extensions or {}).get("code", "-"))
                for error in (result.errors if result is not None and result.errors else [])
            }
        )
        level = logging.ERROR if "INTERNAL_SERVER_ERROR" in codes else logging.INFO
        if not logger.isEnabledFor(level):
            return  # nobody reads the line: not worth working out (LOG_LEVEL=warning)
        name = context.operation_name
        kind = "-"
        document = context.graphql_document
        if document is not None:
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode) and (
                    not isinstance(name, str)
                    or (definition.name is not None and definition.name.value == name)
                ):
                    kind = definition.operation.value
                    if name is None and definition.name is not None:
                        name = definition.name.value
                    break
        logger.log(
            level,
            "operation request_id=%s name=%s type=%s ms=%.1f calls=%s attempts=%s codes=%s "
            "caller=%s",
            getattr(request_context, "request_id", "-"),
            _name(name),
            kind,
            elapsed,
            getattr(session, "calls", "-"),
            getattr(session, "attempts", "-"),
            ",".join(codes) or "-",
            _caller(request_context),
        )


def _caller(request_context: object) -> str:
    """The subject ``gateway.auth`` left on the request's state, if any."""
    state = getattr(getattr(request_context, "request", None), "state", None)
    caller = getattr(state, "caller", None)
    return caller if isinstance(caller, str) else "-"

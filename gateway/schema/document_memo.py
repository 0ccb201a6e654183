"""``DocumentMemo``: what is known about a parsed document, worked out once per document.

The parser cache (limits.py's ``cached_parser``) hands back the very same
``DocumentNode`` for the same text, so what depends on the document alone (its
tokens, its shape check, its validation errors) can be kept with it and looked up
by identity. Strawberry's ``ValidationCache`` keyed an ``lru_cache`` by the
document itself instead, and graphql-core hashes a document by walking every node
of it: for the chat screen that walk cost more than a third of what validation
saved. Here a lookup is a dict access.

Bounded like the parser cache: ``size`` documents, the least recently used
leaving first. A document parsed anew for each request (longer than the parser
cache takes) is another object every time: nothing is kept for it, its facts are
worked out again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["DocumentMemo", "MemoizedValidation"]

T = TypeVar("T")


class DocumentMemo:
    """Facts about documents, by document identity (see the module's docstring)."""

    def __init__(self, max_document_chars: int, size: int = 256) -> None:
        self._max_document_chars = max_document_chars
        self._size = size
        # id(document) -> (the document, kept so that the id is never reused; its facts)
        self._entries: OrderedDict[int, tuple[DocumentNode, dict[Hashable, Any]]] = OrderedDict()
        self.hits = 0

    def fact(self, document: DocumentNode, name: Hashable, work_out: Callable[[], T]) -> T:
        """``work_out()``, once for each document and ``name`` while the document is kept."""
        location = document.loc
        if location is None or len(location.source.body) > self._max_document_chars:
            return work_out()
        entry = self._entries.get(id(document))
        if entry is None:
            entry = self._entries[id(document)] = (document, {})
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(id(document))
        facts = entry[1]
        if name in facts:
            self.hits += 1
            value: T = facts[name]
            return value
        value = facts[name] = work_out()
        return value


class MemoizedValidation(SchemaExtension):
    """Strawberry's validation (its own rules added), kept per document and rule set."""

    def __init__(self, memo: DocumentMemo) -> None:
        self.memo = memo

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            schema: GraphQLSchema = context.schema._schema
            rules: tuple[type[ASTValidationRule], ...] = tuple(context.validation_rules)

            def validate() -> list[GraphQLError]:
                return validate_document(schema, document, rules)

            context.pre_execution_errors = self.memo.fact(
                document, ("validation", id(schema), rules), validate
            )
        yield

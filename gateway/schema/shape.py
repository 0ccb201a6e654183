"""The document's shape, bounded before validation runs (``QUERY_TOO_COMPLEX``).

graphql-core's validation is not linear in the document: the rule
``OverlappingFieldsCanBeMerged`` compares every pair of fields that share a
response name in a selection set (fragments spread there included), and again
for every pair of their sub-selections. A 19 KB document of 300 fragments
spread in one field, or 550 copies of ``thread(id: "x") { id }``, passes the
token limit and costs seconds of event-loop CPU in that rule alone. So the
parser's output is measured first, in one bounded walk that merges fields the
way execution will (by response name, fragments inlined where they are spread),
and refused past any of these limits:

- ``aliases``: aliased fields of the operations, fragments counted where they are
  spread (``MAX_ALIASES``).

- ``selectionSetFields``: field selections merged into one selection set
  (``MAX_SELECTION_SET_FIELDS``). The rule's pairs in a set are at most the
  square of this; it is what the 300-fragment, 500-same-name, 550-identical and
  1200 ``__schema`` documents all exceed.
- ``fragmentSpreads``: fragment spreads, counted each time a spread is expanded
  (``MAX_FRAGMENT_SPREADS``).
- ``selections``: field selections of the whole document, fragments expanded
  where they are spread and each fragment definition once more on its own
  (``MAX_SELECTIONS``).
- ``fieldPairs``: pairs of fields sharing a response name in a merged selection
  set, over the document (``MAX_FIELD_PAIRS``): the pairs the rule compares (each
  one reporting a conflict when their arguments differ), so the rule's work
  itself. 100 copies of one field in one set are 4950 pairs; a fragment-rich
  Relay screen, where ``id`` and ``__typename`` recur in a few dozen fragments, a
  few hundred.

The walk stops at the first limit passed, so its own cost is bounded by the
limits, not by the document. Fragment cycles and unknown fragments are skipped
here (validation reports them). The figures of each refusal are in the error
(``maximum``, ``actual``: the count when the walk stopped, so at least one past
the maximum).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from gateway.schema.refusals import limit_error

__all__ = ["ShapeLimits", "check_shape"]


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    """The document-shape limits (settings ``MAX_ALIASES``, ``MAX_SELECTION_SET_FIELDS``,
    ``MAX_FRAGMENT_SPREADS``, ``MAX_SELECTIONS``, ``MAX_FIELD_PAIRS``)."""

    aliases: int
    selection_set_fields: int
    fragment_spreads: int
    selections: int
    field_pairs: int


class _ShapeExceededError(Exception):
    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


_Chain = frozenset[str]
"""The fragments being expanded around a selection set (to skip cycles)."""


class _Walk:
    def __init__(self, document: DocumentNode, limits: ShapeLimits) -> None:
        self._limits = limits
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.selections = 0
        self.spreads = 0
        self.pairs = 0
        self.aliases = 0
        self.in_operation = True

    def walk(self, root: list[tuple[SelectionSetNode, _Chain]]) -> None:
        """Walk a selection set and, level by level, the sets merged under it (no recursion:
        a deeply nested document must not exhaust the interpreter's stack)."""
        groups = [root]
        while groups:
            groups.extend(self._merged(groups.pop()))

    def _merged(
        self, sets: list[tuple[SelectionSetNode, _Chain]]
    ) -> Iterable[list[tuple[SelectionSetNode, _Chain]]]:
        """Count the selection sets merged at one response path; their children's groups."""
        children: dict[str, list[tuple[SelectionSetNode, _Chain]]] = {}
        seen: dict[str, int] = {}
        fields = 0
        pending = list(reversed(sets))
        while pending:
            selection_set, chain = pending.pop()
            for selection in reversed(selection_set.selections):
                if isinstance(selection, FieldNode):
                    fields += 1
                    self.selections += 1
                    if selection.alias is not None and self.in_operation:
                        self.aliases += 1
                    key = (selection.alias or selection.name).value
                    earlier = seen.get(key, 0)
                    seen[key] = earlier + 1
                    self.pairs += earlier  # this field is compared with each earlier one
                    if selection.selection_set is not None:
                        children.setdefault(key, []).append((selection.selection_set, chain))
                elif isinstance(selection, InlineFragmentNode):
                    pending.append((selection.selection_set, chain))
                elif isinstance(selection, FragmentSpreadNode):
                    self._spread(selection.name.value, chain, pending)
            self._check(fields)
        return children.values()

    def _spread(
        self, name: str, chain: _Chain, pending: list[tuple[SelectionSetNode, _Chain]]
    ) -> None:
        self.spreads += 1
        if self.spreads > self._limits.fragment_spreads:
            raise _ShapeExceededError(
                limit_error(
                    "fragmentSpreads",
                    self._limits.fragment_spreads,
                    self.spreads,
                    f"The document spreads fragments more than "
                    f"{self._limits.fragment_spreads} times.",
                )
            )
        fragment = self._fragments.get(name)
        if fragment is None or name in chain:  # unknown or cyclic: validation says so
            return
        pending.append((fragment.selection_set, chain | {name}))

    def _check(self, fields: int) -> None:
        if self.aliases > self._limits.aliases:
            raise _ShapeExceededError(
                limit_error(
                    "aliases",
                    self._limits.aliases,
                    self.aliases,
                    f"The document uses {self.aliases} aliases; the limit is "
                    f"{self._limits.aliases}.",
                )
            )
        if self.pairs > self._limits.field_pairs:
            raise _ShapeExceededError(
                limit_error(
                    "fieldPairs",
                    self._limits.field_pairs,
                    self.pairs,
                    f"The document repeats response names too often: more than "
                    f"{self._limits.field_pairs} pairs of fields must be merged.",
                )
            )
        if fields > self._limits.selection_set_fields:
            raise _ShapeExceededError(
                limit_error(
                    "selectionSetFields",
                    self._limits.selection_set_fields,
                    fields,
                    f"A selection set merges more than {self._limits.selection_set_fields} "
                    "fields (fragments spread in it included).",
                )
            )
        if self.selections > self._limits.selections:
            raise _ShapeExceededError(
                limit_error(
                    "selections",
                    self._limits.selections,
                    self.selections,
                    f"The document selects more than {self._limits.selections} fields "
                    "(fragments counted where they are spread).",
                )
            )


def check_shape(document: DocumentNode, limits: ShapeLimits) -> GraphQLError | None:
    """The ``QUERY_TOO_COMPLEX`` error of the first shape limit ``document`` passes, if any."""
    walk = _Walk(document, limits)
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                walk.in_operation = True
                walk.walk([(definition.selection_set, frozenset())])
            elif isinstance(definition, FragmentDefinitionNode):
                walk.in_operation = False  # its aliases count where it is spread
                walk.walk([(definition.selection_set, frozenset((definition.name.value,)))])
    except _ShapeExceededError as exceeded:
        return exceeded.error
    return None

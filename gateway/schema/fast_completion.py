"""Completing plain sub-trees of a response without graphql-core's per-field machinery.

Once the loaders have handed back upstream objects, most of an operation is
plain: attribute reads (``id``, ``createdAt``), synchronous methods of the source
that take nothing but ``self`` (``content``, ``text``, ``edges``), enums and
scalars, lists, and the schema's unions resolved by the source's class.
graphql-core runs each of those fields through ``execute_field``: a ``Path``, a
``GraphQLResolveInfo``, strawberry's ``Info`` and argument conversion, an
awaitability check, ``complete_value``, per field and per list item (about 330
fields for the chat screen).

``FastCompletion`` compiles, for each object type and selection graphql-core
asks it to complete, a function that builds the response dict directly
(straight-line code made for the selection, ``_object_code``; leaves, lists and
unions are closures): fields are collected by graphql-core itself
(``Executor.collect_subfields``: fragments, ``@skip``/``@include``, aliases,
``__typename``), leaves are coerced by the schema's own types
(``coerce_output_value``), so the data is graphql-core's by construction. What
it does not recognise as plain (a field with arguments, an async resolver, a
resolver of strawberry's it does not know by name (``compat.PlainResolvers``),
an interface, ``@defer``) makes the whole sub-tree graphql-core's.

The closures depend on the document, the operation and the values of the
variables ``@skip``/``@include`` can read (the Boolean ones: the schema has no
other executable directive, ``supports_fast_completion``), so they are compiled
once for each such combination and shared by the operations that repeat it
(``_SHARED``; a parsed document is the same object for the same text, limits.py's
parser cache). The share is bounded twice: 256 entries, and 20,000 compiled fields
in all (about 1.5 kB each, the objects' generated code included), the
oldest entries leaving first; a document too long for the parser cache gets
completers of its own, dropped with its operation.

Errors are never produced here. Anything unexpected while completing (a resolver
raising, an awaitable, a null in a non-null position, a value graphql-core's
coercion refuses, a union member it cannot name) abandons the attempt, and
graphql-core completes the same object from scratch, with its errors, paths and
null propagation. That is safe because everything a plain sub-tree calls is
synchronous and reads only its source: calling it twice gives the same answer
and reaches no upstream. ``tests/schema/test_fast_completion.py`` compares both
paths on a corpus of operations and on hypothesis-generated ones.

Leaf bytes are counted as graphql-core's path counts them (execution.py's
``leaf_bytes`` of every completed leaf, ``__typename`` included), into
``bytes``; the executor charges them to the response budget only when the
attempt succeeds, so an abandoned attempt is not counted twice.
"""

from __future__ import annotations

import keyword
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLUnionType,
    NamedTypeNode,
    NonNullTypeNode,
    TypeNameMetaFieldDef,
    TypeNode,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.executor import Executor
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.types.field import StrawberryField

from gateway.schema.compat import PlainResolvers, strawberry_field_of
from gateway.schema.limits import CACHED_DOCUMENT_CHARS

__all__ = ["NOT_PLAIN", "FastCompletion", "supports_fast_completion"]

NOT_PLAIN: Any = object()
"""What ``FastCompletion.complete`` returns when graphql-core has to complete the value."""

Completer = Callable[[Any], Any]

_STANDARD_DIRECTIVES = frozenset({"include", "skip", "deprecated", "specifiedBy", "oneOf"})

# Values of these exact types are neither exceptions nor awaitables: no check needed.
_INERT = frozenset({str, int, float, bool, type(None), dict, list})


class _NotPlainError(Exception):
    """This selection, or this value, is for graphql-core to complete."""


def supports_fast_completion(executor: Executor[Any]) -> bool:
    """No field middleware (it must see every field) and no incremental delivery.

    Strawberry always passes a ``MiddlewareManager``; without middlewares in it,
    graphql-core calls the fields' own resolvers.
    """
    manager = executor.middleware_manager
    return (manager is None or not manager.middlewares) and all(
        directive.name in _STANDARD_DIRECTIVES for directive in executor.schema.directives
    )


class _Compiled:
    """The completers of one (schema, operation, Boolean variables), and their byte count.

    Completion is synchronous, so the operations sharing these take turns on ``bytes``.
    """

    __slots__ = ("bytes", "completers", "fields", "inert_classes", "keep")

    def __init__(self, keep: tuple[Any, ...]) -> None:
        self.keep = keep  # what the key holds by id: alive as long as this entry
        self.completers: dict[tuple[GraphQLObjectType, tuple[int, ...]], Completer | None] = {}
        self.bytes = 0
        self.fields = 0  # compiled so far: what this entry weighs in the share
        # Strawberry types seen to be neither exceptions nor awaitables.
        self.inert_classes: set[type] = set()


_SHARED: OrderedDict[Hashable, _Compiled] = OrderedDict()
_SHARED_SIZE = 256
_SHARED_FIELDS = 20_000


def _shared_for(executor: Executor[Any]) -> _Compiled:
    operation = executor.operation
    keep = (executor.schema, operation, executor.fragment_definitions)
    if operation.loc is None or len(operation.loc.source.body) > CACHED_DOCUMENT_CHARS:
        return _Compiled(keep)  # parsed anew for every request: nothing to share
    coerced = executor.variable_values.coerced
    switches = tuple(
        coerced.get(definition.variable.name.value)
        for definition in operation.variable_definitions or ()
        if _is_boolean(definition.type)
    )
    key = (id(executor.schema), id(operation), switches)
    compiled = _SHARED.get(key)
    if compiled is None:
        compiled = _SHARED[key] = _Compiled(keep)
        while len(_SHARED) > _SHARED_SIZE or (
            len(_SHARED) > 1 and sum(entry.fields for entry in _SHARED.values()) > _SHARED_FIELDS
        ):
            _SHARED.popitem(last=False)
    else:
        _SHARED.move_to_end(key)
    return compiled


def _is_boolean(type_node: TypeNode) -> bool:
    inner = type_node.type if isinstance(type_node, NonNullTypeNode) else type_node
    return isinstance(inner, NamedTypeNode) and inner.name.value == "Boolean"


def _plain_getter(field: GraphQLField) -> tuple[Callable[[Any], Any], str | None]:
    """What strawberry's resolver of ``field`` would return for a source, called directly,
    and the attribute it reads (``None``: a method).

    Only for a field without arguments, resolved by strawberry's own wrapper: an
    attribute read (a basic field), or a synchronous method taking only ``self``.
    """
    definition = strawberry_field_of(field)
    if definition is None or type(definition) is not StrawberryField or field.args:
        raise _NotPlainError
    if definition.extensions or definition.is_async:
        raise _NotPlainError
    resolver = definition.base_resolver
    if resolver is None:
        if not PlainResolvers.named(field.resolve, PlainResolvers.BASIC_FIELD):
            raise _NotPlainError
        if definition.default_resolver is not getattr:
            raise _NotPlainError
        return attrgetter(definition.python_name), definition.python_name
    if not PlainResolvers.named(field.resolve, PlainResolvers.SYNC_FIELD):
        raise _NotPlainError
    if (
        resolver.is_async
        or resolver.arguments
        or resolver.self_parameter is None
        or resolver.info_parameter is not None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
    ):
        raise _NotPlainError
    method: Callable[[Any], Any] = resolver.wrapped_func  # type: ignore[assignment]
    return method, None


def _gives_str_as_is(leaf_type: Any) -> bool:
    """String and ID: graphql-core gives a str back as it is (no strawberry enum is)."""
    coerce = leaf_type.coerce_output_value
    return (coerce is serialize_string or coerce is serialize_id) and (
        PlainResolvers.enum_names(leaf_type) is None
    )


def _is_str_leaf(field_type: GraphQLOutputType) -> bool:
    """A String or ID field, nullable or not."""
    inner = field_type.of_type if is_non_null_type(field_type) else field_type
    return is_leaf_type(inner) and _gives_str_as_is(inner)


class _Field(NamedTuple):
    """One selected field of a plain object: where it goes, how it is read and completed."""

    response_key: str
    getter: Callable[[Any], Any] | None  # None for ``__typename``
    attribute: str | None  # what ``getter`` reads, when it is an attribute read
    completer: Completer
    non_null: bool  # a non-null list or object: None from ``completer`` is not plain
    str_leaf: bool  # a String or ID leaf: a str is the response's value as it is
    typename: str | None = None  # ``__typename``: the object type's name, a constant


def _object_code(
    fields: list[_Field],
    is_type_of: Callable[..., Any] | None,
    inert: set[type],
    admit: Callable[[Any], None],
    leaves: tuple[_Compiled, Callable[[Any], int], int],
) -> Completer:
    """The completer of one object, as straight-line Python made for its selection.

    The same steps a loop over ``fields`` would take, in the same order, without the
    loop: an attribute is read as ``value.name`` (what its ``attrgetter`` does), each
    field is completed by its own completer, a non-null list or object is checked
    where it is completed, and the dict is built in one display. Field after field,
    per list item, this was a third of the fast completion's time. A String or ID
    leaf holding a str, and ``__typename``, are completed in line (counted as the
    str leaf completer counts them: an ASCII str is its length); anything else a leaf
    holds goes to its completer. Only identifiers made here and ``repr`` of the
    response keys and type names (GraphQL names) enter the source.
    """
    compiled, leaf_bytes, overhead = leaves
    namespace: dict[str, Any] = {
        "Undefined": Undefined,
        "NotPlain": _NotPlainError,
        "inert": inert,
        "admit": admit,
        "is_type_of": is_type_of,
        "compiled": compiled,
        "leaf_bytes": leaf_bytes,
    }
    lines = [
        "def complete_object(value):",
        "    if value is None or value is Undefined:",
        "        return None",
        "    if type(value) not in inert:",
        "        admit(value)",
    ]
    if is_type_of is not None:  # strawberry's generated is_type_of never reads its info
        lines += ["    if not is_type_of(value, None):", "        raise NotPlain"]
    constant_bytes = 0
    in_line = [field for field in fields if field.str_leaf and field.typename is None]
    if in_line:
        lines.append("    spent = 0")
    for n, field in enumerate(fields):
        if field.typename is not None:
            lines.append(f"    v{n} = {field.typename!r}")
            constant_bytes += leaf_bytes(field.typename) + overhead
            continue
        namespace[f"c{n}"] = field.completer
        attribute = field.attribute
        if attribute is None or not attribute.isidentifier() or keyword.iskeyword(attribute):
            namespace[f"g{n}"] = field.getter
            read = f"g{n}(value)"
        else:
            read = f"value.{attribute}"
        if field.str_leaf:
            lines += [
                f"    v{n} = {read}",
                f"    if type(v{n}) is str:",
                f"        spent += {overhead} + "
                f"(len(v{n}) if v{n}.isascii() else leaf_bytes(v{n}))",
                "    else:",
                f"        v{n} = c{n}(v{n})",
            ]
        else:
            lines.append(f"    v{n} = c{n}({read})")
        if field.non_null:
            lines += [f"    if v{n} is None:", "        raise NotPlain"]
    if in_line or constant_bytes:
        lines.append(f"    compiled.bytes += {'spent + ' if in_line else ''}{constant_bytes}")
    entries = ", ".join(f"{field.response_key!r}: v{n}" for n, field in enumerate(fields))
    lines.append(f"    return {{{entries}}}")
    exec("\n".join(lines), namespace)  # noqa: S102 - our own source, see above
    completer: Completer = namespace["complete_object"]
    return completer


class FastCompletion:
    """One operation's compiled completers, by object type and selection."""

    __slots__ = (
        "_compiled",
        "_executor",
        "_is_awaitable",
        "_leaf_bytes",
        "_leaf_overhead",
        "_objects",
    )

    def __init__(
        self, executor: Executor[Any], leaf_bytes: Callable[[Any], int], leaf_overhead: int
    ) -> None:
        """``leaf_bytes`` and ``leaf_overhead``: how the executor counts a completed leaf."""
        # Weakly: the executor holds this object, and a strong reference back would
        # leave the whole execution to the garbage collector (see loaders._held_weakly).
        self._executor = weakref.proxy(executor)
        self._leaf_bytes = leaf_bytes
        self._leaf_overhead = leaf_overhead
        self._is_awaitable = executor.is_awaitable
        self._compiled = _shared_for(executor)
        # (type, id(field details)) -> (the field details, kept alive; completer or None)
        self._objects: dict[tuple[GraphQLObjectType, int], tuple[Any, Completer | None]] = {}

    @property
    def bytes(self) -> int:
        """The leaf bytes the last ``complete`` counted."""
        return self._compiled.bytes

    def complete(self, object_type: GraphQLObjectType, field_details: Any, value: Any) -> Any:
        """The completed object, or ``NOT_PLAIN``; ``bytes``: the leaf bytes it counted."""
        self._compiled.bytes = 0
        try:
            return self._entry(object_type, field_details)(value)
        except Exception:  # any surprise is graphql-core's to report
            return NOT_PLAIN

    def _entry(self, object_type: GraphQLObjectType, field_details: Any) -> Completer:
        """The completer for a selection graphql-core hands over, by identity, then by nodes."""
        local = self._objects.get((object_type, id(field_details)))
        if local is None:
            local = (field_details, self._object(object_type, field_details, safe=True))
            self._objects[(object_type, id(field_details))] = local
        if local[1] is None:
            raise _NotPlainError
        return local[1]

    def _object(
        self, object_type: GraphQLObjectType, field_details: Any, safe: bool = False
    ) -> Any:
        """The compiled completer (``safe``: None when not plain, else ``_NotPlainError``)."""
        completers = self._compiled.completers
        key = (object_type, tuple(id(details.node) for details in field_details))
        if key in completers:
            completer = completers[key]
        else:
            try:
                completer = self._compile_object(object_type, field_details)
            except _NotPlainError:
                completer = None
            completers[key] = completer
        if completer is None and not safe:
            raise _NotPlainError
        return completer

    def _compile_object(self, object_type: GraphQLObjectType, field_details: Any) -> Completer:
        grouped, defer_usages, forbidden = self._executor.collect_subfields(
            object_type, field_details
        )
        if defer_usages or forbidden:
            raise _NotPlainError
        is_type_of = object_type.is_type_of
        if is_type_of is not None and not PlainResolvers.named(
            is_type_of, PlainResolvers.IS_TYPE_OF
        ):
            raise _NotPlainError
        fields: list[_Field] = []
        for response_key, children in grouped.items():
            node = children[0].node
            if node.arguments or any(c.fragment_variable_values for c in children):
                raise _NotPlainError
            name = node.name.value
            typename = None
            if name == "__typename":
                typename = object_type.name
                getter: Callable[[Any], Any] | None = None
                attribute: str | None = None
                field_type: GraphQLOutputType = TypeNameMetaFieldDef.type
            else:
                field = object_type.fields.get(name)
                if field is None:
                    raise _NotPlainError
                getter, attribute = _plain_getter(field)
                field_type = field.type
            # A non-null list or object is checked in the object's own code (below).
            non_null = is_non_null_type(field_type) and not is_leaf_type(field_type.of_type)
            completer = self._completer(
                field_type.of_type if non_null else field_type,  # type: ignore[union-attr]
                children,
            )
            str_leaf = _is_str_leaf(field_type)
            fields.append(
                _Field(response_key, getter, attribute, completer, non_null, str_leaf, typename)
            )
        self._compiled.fields += len(fields)
        is_awaitable = self._is_awaitable
        inert = self._compiled.inert_classes

        def admit(value: Any) -> None:
            if isinstance(value, Exception) or is_awaitable(value):
                raise _NotPlainError
            if hasattr(type(value), "__strawberry_definition__"):
                # A strawberry type's instances are awaitable, or not, by their class.
                inert.add(type(value))

        leaves = (self._compiled, self._leaf_bytes, self._leaf_overhead)
        return _object_code(fields, is_type_of, inert, admit, leaves)

    def _completer(self, field_type: GraphQLOutputType, field_details: Any) -> Completer:
        if is_non_null_type(field_type) and is_leaf_type(field_type.of_type):
            return self._leaf(field_type.of_type, non_null=True)
        if is_non_null_type(field_type):
            inner = self._completer(field_type.of_type, field_details)

            def complete_non_null(value: Any) -> Any:
                completed = inner(value)
                if completed is None:
                    raise _NotPlainError
                return completed

            return complete_non_null
        if is_list_type(field_type):
            item = self._completer(field_type.of_type, field_details)

            def complete_list(value: Any) -> list[Any] | None:
                if value is None or value is Undefined:
                    return None
                if type(value) is not list and type(value) is not tuple:
                    raise _NotPlainError
                return [item(entry) for entry in value]

            return complete_list
        if is_leaf_type(field_type):
            return self._leaf(field_type, non_null=False)
        if is_object_type(field_type):
            completer: Completer = self._object(field_type, field_details)
            return completer
        if isinstance(field_type, GraphQLUnionType):
            return self._union(field_type, field_details)
        raise _NotPlainError  # an interface

    def _leaf(self, leaf_type: Any, non_null: bool) -> Completer:
        leaf_bytes, overhead = self._leaf_bytes, self._leaf_overhead
        compiled = self._compiled
        coerce = leaf_type.coerce_output_value
        # graphql-core's String and ID give a str back as it is.
        str_as_is = _gives_str_as_is(leaf_type)
        enum_class: Any
        enum_class, enum_names = PlainResolvers.enum_names(leaf_type) or (None, {})
        is_awaitable = self._is_awaitable

        def complete_leaf(value: Any) -> Any:
            if str_as_is and type(value) is str:
                compiled.bytes += leaf_bytes(value) + overhead
                return value
            if enum_class is not None and type(value) is enum_class:
                name = enum_names.get(value.value)
                if name is None:
                    raise _NotPlainError
                compiled.bytes += leaf_bytes(name) + overhead
                return name
            if value is None or value is Undefined:
                if non_null:
                    raise _NotPlainError
                return None
            if type(value) not in _INERT and (isinstance(value, Exception) or is_awaitable(value)):
                raise _NotPlainError
            coerced = coerce(value)
            if coerced is None or coerced is Undefined:
                raise _NotPlainError
            compiled.bytes += leaf_bytes(coerced) + overhead
            return coerced

        if not str_as_is:
            return complete_leaf

        def complete_str_leaf(value: Any) -> Any:
            # String and ID leaves are most of a response: a str is kept as it is and
            # counted here (an ASCII one is its length, as ``leaf_bytes`` counts it),
            # anything else takes the general path above.
            if type(value) is str:
                compiled.bytes += (len(value) if value.isascii() else leaf_bytes(value)) + overhead
                return value
            return complete_leaf(value)

        return complete_str_leaf

    def _union(self, union: GraphQLUnionType, field_details: Any) -> Completer:
        """A union strawberry resolves by the value's strawberry definition."""
        if not PlainResolvers.named(union.resolve_type, PlainResolvers.UNION_TYPE):
            raise _NotPlainError
        members: dict[Any, Completer] = {}
        for member in union.types:
            definition = PlainResolvers.definition_of(member)
            if definition is None or definition.concrete_of is not None:
                raise _NotPlainError
            members[definition] = self._object(member, field_details)

        def complete_union(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if PlainResolvers.is_cast(value):
                raise _NotPlainError
            member = members.get(getattr(value, "__strawberry_definition__", None))
            if member is None:
                raise _NotPlainError
            return member(value)

        return complete_union

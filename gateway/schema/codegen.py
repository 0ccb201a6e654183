"""Strawberry's query codegen, set up for this schema.

``strawberry codegen`` turns an operation into Python or TypeScript result types.
Run as shipped (``--schema`` on a schema object, ``-p python`` / ``-p typescript``)
it fails on every example operation: it takes a custom scalar's type from the
Python type a ``ScalarWrapper`` wraps, and a scalar bound the way strawberry now
recommends (a ``ScalarDefinition`` in ``scalar_overrides``/``scalar_map``) has
none, so ``Metadata`` gives ``Scalar type must have a python type: Metadata``.
Even with a wrapper it could not succeed: a variable's scalar is looked up by name
and never gets the wrapper, and the TypeScript plugin can only type a scalar whose
Python type is ``str`` or ``float`` (``KeyError: <class 'dict'>`` for a map).

Both plugins also map scalars by GraphQL name (``DateTime`` is there already), so
the plugins here add this schema's custom scalars by name, with what they are on
the wire, and change nothing else:

    strawberry codegen --schema gateway.schema.codegen:schema -o generated \\
        -p gateway.schema.codegen:PythonPlugin operation.graphql
    strawberry codegen --schema gateway.schema.codegen:schema -o generated \\
        -p gateway.schema.codegen:TypeScriptPlugin operation.graphql

An operation that spreads fragments must be in the same file as the fragments
(``cat operation.graphql examples/operations/fragments.graphql``): the codegen
reads one document per file. ``tests/schema/test_codegen.py`` runs both on every
example operation.
"""

from __future__ import annotations

from typing import ClassVar

from strawberry.codegen.plugins.python import PythonPlugin as StrawberryPythonPlugin
from strawberry.codegen.plugins.python import PythonType
from strawberry.codegen.plugins.typescript import TypeScriptPlugin as StrawberryTypeScriptPlugin

from gateway.schema.build import GatewaySchema
from gateway.schema.mutation import Mutation
from gateway.schema.query import Query
from gateway.schema.scalars import SCALARS

__all__ = ["PythonPlugin", "TypeScriptPlugin", "schema"]

schema = GatewaySchema(query=Query, mutation=Mutation, scalar_overrides=SCALARS)
"""The public contract, as ``schema.graphql`` has it (no limits or extensions: codegen only)."""


class PythonPlugin(StrawberryPythonPlugin):
    """Strawberry's Python plugin, knowing ``Metadata`` (a string map) and ``JSON`` (any value)."""

    SCALARS_TO_PYTHON_TYPES: ClassVar[dict[str, PythonType]] = {
        **StrawberryPythonPlugin.SCALARS_TO_PYTHON_TYPES,
        "Metadata": PythonType("dict[str, str]"),
        "JSON": PythonType("Any", "typing"),
    }


class TypeScriptPlugin(StrawberryTypeScriptPlugin):
    """Strawberry's TypeScript plugin, knowing ``Metadata`` and ``JSON``."""

    SCALARS_TO_TS_TYPE: ClassVar[dict[str | type, str]] = {
        **StrawberryTypeScriptPlugin.SCALARS_TO_TS_TYPE,
        "Metadata": "Record<string, string>",
        "JSON": "unknown",
    }

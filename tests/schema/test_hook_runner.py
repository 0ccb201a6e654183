"""``GeneratorHookRunner`` runs extension hooks as strawberry's own runner does.

Each scenario runs the same extensions through strawberry's ``SchemaExtensionsRunner``
and through ``GeneratorHookRunner``, and compares what the hooks saw (in order) and
what came out of the stage (a result, or the exception that escaped it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import ValidationContextManager
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from gateway.schema import build_schema
from gateway.schema.hook_runner import GeneratorHookRunner

EVENTS: list[str] = []


class Boom(Exception):
    pass


class Other(Exception):
    pass


def _recording(name: str, *, on_error: str = "reraise") -> type[SchemaExtension]:
    """An extension whose ``on_operation`` records entering, leaving and what it saw."""

    class Recording(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            EVENTS.append(f"{name} enter")
            try:
                yield
            except Boom as exc:
                EVENTS.append(f"{name} saw {exc}")
                if on_error == "suppress":
                    return
                if on_error == "replace":
                    raise Other(f"from {name}") from None
                raise
            EVENTS.append(f"{name} leave")

        def get_results(self) -> dict[str, Any]:
            return {name: True}

    return Recording


class YieldsTwice(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        EVENTS.append("twice enter")
        yield
        yield


class NeverYields(SchemaExtension):
    def on_operation(self) -> Iterator[None]:  # type: ignore[misc]
        EVENTS.append("never")
        return
        yield  # pragma: no cover - makes this a generator function


class EnterFails(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        EVENTS.append("fails enter")
        raise Boom("at enter")
        yield  # pragma: no cover


class PlainValidate(SchemaExtension):
    """A hook that is a plain method, not a generator: strawberry runs that stage."""

    def on_validate(self) -> None:  # type: ignore[override]
        EVENTS.append("plain validate")


def _context() -> ExecutionContext:
    return ExecutionContext(query="{ __typename }", schema=build_schema(), allowed_operations=())


async def _run(
    runner_class: type[SchemaExtensionsRunner],
    classes: list[type[SchemaExtension]],
    body_raises: BaseException | None,
) -> tuple[list[str], str]:
    EVENTS.clear()
    context = _context()
    extensions = [cls() for cls in classes]
    for extension in extensions:
        extension.execution_context = context
    runner = runner_class(context, extensions)
    outcome = "ok"
    try:
        async with runner.operation():
            EVENTS.append("body")
            if body_raises is not None:
                raise body_raises
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    return list(EVENTS), outcome


SCENARIOS = {
    "in order, out in reverse": ([_recording("a"), _recording("b")], None),
    "an error seen by every hook": ([_recording("a"), _recording("b")], Boom("x")),
    "an inner hook suppresses": (
        [_recording("a"), _recording("b", on_error="suppress")],
        Boom("x"),
    ),
    "an inner hook replaces the error": (
        [_recording("a"), _recording("b", on_error="replace")],
        Boom("x"),
    ),
    "a hook yielding twice": ([_recording("a"), YieldsTwice], None),
    "a hook never yielding": ([NeverYields], None),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_same_hooks_same_order_same_outcome(scenario: str) -> None:
    classes, raises = SCENARIOS[scenario]
    theirs = await _run(SchemaExtensionsRunner, classes, raises)
    ours = await _run(GeneratorHookRunner, classes, raises)
    assert ours == theirs
    assert theirs[0], "the hooks ran"


async def test_a_hook_failing_on_entry_unwinds_the_hooks_entered_before_it() -> None:
    """Strawberry leaves the outer hooks suspended (closed at garbage collection); this
    runner throws the error into them, as ``ExitStack`` does."""
    events, outcome = await _run(GeneratorHookRunner, [_recording("a"), EnterFails], None)
    assert events == ["a enter", "fails enter", "a saw at enter"]
    assert outcome == "Boom: at enter"


async def test_a_stage_with_a_plain_hook_is_strawberrys_and_still_runs_it() -> None:
    EVENTS.clear()
    context = _context()
    extension = PlainValidate()
    extension.execution_context = context
    runner = GeneratorHookRunner(context, [extension])
    stage = runner.validation()
    assert isinstance(stage, ValidationContextManager)
    async with stage:
        EVENTS.append("body")
    assert EVENTS == ["plain validate", "body"]


async def test_sync_stages_behave_like_async_ones() -> None:
    EVENTS.clear()
    context = _context()
    extensions = [_recording("a")(), _recording("b")()]
    for extension in extensions:
        extension.execution_context = context
    with pytest.raises(Boom), GeneratorHookRunner(context, extensions).operation():
        raise Boom("sync")
    assert EVENTS == ["a enter", "b enter", "b saw sync", "a saw sync"]


async def test_results_are_asked_of_the_extensions_that_give_them() -> None:
    context = _context()
    context.extensions_results = {"extra": 1}
    extensions = [_recording("a")(), YieldsTwice(), _recording("b")()]
    for extension in extensions:
        extension.execution_context = context
    ours = await GeneratorHookRunner(context, extensions).get_extensions_results(context)
    theirs = await SchemaExtensionsRunner(context, extensions).get_extensions_results(context)
    assert ours == theirs == {"a": True, "b": True, "extra": 1}


async def test_the_gateway_schema_runs_its_extensions_through_it() -> None:
    schema = build_schema()
    runners: list[SchemaExtensionsRunner] = []
    create = schema.create_extensions_runner

    def spy(context: ExecutionContext, extensions: list[SchemaExtension]) -> Any:
        runner = create(context, extensions)
        runners.append(runner)
        return runner

    schema.create_extensions_runner = spy  # type: ignore[method-assign]
    result = await schema.execute("{ __typename }")
    assert result.errors is None and result.data == {"__typename": "Query"}
    assert len(runners) == 1 and isinstance(runners[0], GeneratorHookRunner)
    assert len(runners[0].extensions) >= 7

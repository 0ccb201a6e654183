"""``GeneratorHookRunner``: strawberry's extension hooks, run without a wrapper per hook.

Strawberry runs each stage of an operation (``on_operation``, ``on_parse``,
``on_validate``, ``on_execute``) through a context manager that, for every
extension and every stage of every operation, asks ``inspect`` what kind of hook
it is, wraps it with ``contextlib.contextmanager`` (``functools.wraps`` included)
and enters it on an ``AsyncExitStack``. With the gateway's seven extensions that
was about a twentieth of an operation's CPU, in-process.

Every hook of the gateway's extensions is a generator function (``yield`` once), so
this runner finds each extension class's hooks once, and runs a stage by calling
them and stepping the generators itself, with ``contextlib``'s semantics: hooks
enter in the extensions' order and leave in reverse; an exception raised inside
the stage is thrown into each hook on the way out (a hook that catches it and
returns hides it from the hooks outside it, though, as with strawberry's stages, it
still leaves the stage; one that raises another replaces it); a hook that does not
yield exactly once is a ``RuntimeError``; a hook failing before its ``yield`` has the
error thrown into the hooks entered before it (strawberry leaves those suspended until
they are garbage-collected). A stage in
which some extension's hook is not a generator function (a plain or async
callable, an async generator) is strawberry's own to run, unchanged.
``tests/schema/test_hook_runner.py`` runs the same hooks through both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, NamedTuple

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

__all__ = ["GeneratorHookRunner"]

Hook = Callable[[SchemaExtension], Generator[None, None, None]]

_STAGES: dict[str, type[ExtensionContextManagerBase]] = {
    "on_operation": OperationContextManager,
    "on_parse": ParsingContextManager,
    "on_validate": ValidationContextManager,
    "on_execute": ExecutingContextManager,
}

_NOT_A_GENERATOR: Any = object()
"""A class's hook that is not a generator function: the stage is strawberry's."""


def _class_hooks(cls: type[SchemaExtension]) -> dict[str, Any]:
    """The class's overridden hooks by stage: the function, or ``_NOT_A_GENERATOR``."""
    found: dict[str, Any] = {}
    for stage in _STAGES:
        hook = getattr(cls, stage)
        if hook is not getattr(SchemaExtension, stage):  # overridden: a hook in this stage
            found[stage] = hook if inspect.isgeneratorfunction(hook) else _NOT_A_GENERATOR
    return found


class _Plan(NamedTuple):
    """For one list of extension classes: each stage's hooks, by extension index (``None``:
    the stage is strawberry's), and the indexes of the extensions that give results."""

    stages: dict[str, list[tuple[int, Hook]] | None]
    with_results: tuple[int, ...]


_plans: dict[tuple[type[SchemaExtension], ...], _Plan] = {}


def _plan_of(classes: tuple[type[SchemaExtension], ...]) -> _Plan:
    """The plan of ``classes``, worked out once (a schema's extensions are the same
    classes on every operation)."""
    plan = _plans.get(classes)
    if plan is None:
        stages: dict[str, list[tuple[int, Hook]] | None] = {stage: [] for stage in _STAGES}
        for index, cls in enumerate(classes):
            for stage, hook in _class_hooks(cls).items():
                hooks = stages[stage]
                if hooks is None:
                    continue
                if hook is _NOT_A_GENERATOR:
                    stages[stage] = None
                else:
                    hooks.append((index, hook))
        with_results = tuple(
            index
            for index, cls in enumerate(classes)
            if cls.get_results is not SchemaExtension.get_results
        )
        plan = _plans[classes] = _Plan(stages, with_results)
    return plan


class _Stage:
    """One stage's hooks as one context manager, sync or async (see the module's docstring)."""

    __slots__ = ("_hooks", "_running")

    def __init__(self, hooks: list[tuple[SchemaExtension, Hook]]) -> None:
        self._hooks = hooks
        self._running: list[Generator[None, None, None]] = []

    def __enter__(self) -> None:
        running = self._running
        for extension, hook in self._hooks:
            generator = hook(extension)
            try:
                next(generator)
            except StopIteration:
                error = RuntimeError("generator didn't yield")
                self._leave(error)
                raise error from None
            except BaseException as exc:
                self._leave(exc)
                raise
            running.append(generator)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self._leave(exc)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, *exc_info: Any) -> bool:
        return self.__exit__(*exc_info)

    def _leave(self, exc: BaseException | None) -> bool:
        """Close the running hooks, innermost first; ``exc`` goes on (False).

        Raises what a hook raised instead (chained to what it replaced), as
        ``ExitStack`` does.
        """
        original = exc
        running = self._running
        while running:
            generator = running.pop()
            try:
                if exc is None:
                    next(generator)
                else:
                    generator.throw(exc)
            except StopIteration as stop:
                if exc is not None and stop is not exc:
                    exc = None  # the hook caught it and returned: hidden from the outer ones
                continue
            except BaseException as raised:
                if raised is not exc:
                    if exc is not None and raised.__context__ is None:
                        raised.__context__ = exc
                    exc = raised
                continue
            # It yielded a second time.
            generator.close()
            error = RuntimeError(
                "generator didn't stop" if exc is None else "generator didn't stop after throw()"
            )
            error.__context__ = exc
            exc = error
        if exc is None or exc is original:
            return False  # never suppressed, as with strawberry's stages (see above)
        raise exc


class GeneratorHookRunner(SchemaExtensionsRunner):
    """Strawberry's extensions runner, its four stages run by ``_Stage`` where they can be.

    Which hooks run in which stage is worked out once per list of extension classes
    (``_plan_of``; bounded by the schema configurations built in the process).
    """

    def __init__(
        self,
        execution_context: ExecutionContext,
        extensions: list[SchemaExtension] | None = None,
    ) -> None:
        super().__init__(execution_context, extensions)
        plan = _plan_of(tuple(type(extension) for extension in self.extensions))
        bound = self.extensions
        self._by_stage = {
            stage: None if hooks is None else [(bound[i], hook) for i, hook in hooks]
            for stage, hooks in plan.stages.items()
        }
        self._with_results = [bound[i] for i in plan.with_results]

    def _stage(self, stage: str) -> Any:
        hooks = self._by_stage[stage]
        if hooks is None:
            return _STAGES[stage](self.extensions)
        return _Stage(hooks)

    def operation(self) -> Any:
        return self._stage("on_operation")

    def parsing(self) -> Any:
        return self._stage("on_parse")

    def validation(self) -> Any:
        return self._stage("on_validate")

    def executing(self) -> Any:
        return self._stage("on_execute")

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        """Strawberry's, asking only the extensions that give results."""
        data: dict[str, Any] = {}
        for extension in self._with_results:
            results = extension.get_results()
            data.update(await results if inspect.isawaitable(results) else results)
        data.update(ctx.extensions_results)
        return data

"""Schema-first codegen, Python: ariadne-codegen's typed client on the published contract.

ariadne-codegen needs graphql-core<3.3 (the gateway pins 3.3), so it lives in
``.venv-codegen`` (``scripts/setup.d/codegen.sh``, pinned by
``examples/python/requirements-codegen.txt``). The test regenerates the client from
``schema.graphql`` and ``examples/operations``, checks that it needs nothing beyond
httpx and pydantic, then imports it here and talks to a real server with it.
"""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "python"
GENERATED = EXAMPLE / "generated"
PACKAGE = "messages_client"
ARIADNE = REPO_ROOT / ".venv-codegen" / "bin" / "ariadne-codegen"
ALLOWED_THIRD_PARTY = {"httpx", "pydantic", "pydantic_core"}

pytestmark = pytest.mark.timeout(120)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(name, ast.Name) and name.id == "ImportError" for name in names)


def required_imports(source: str) -> set[str]:
    """Top-level modules a file imports, leaving out ``try: ... except ImportError`` ones."""
    tree = ast.parse(source)
    optional: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(map(_catches_import_error, node.handlers)):
            for inner in node.body:
                optional.update(id(child) for child in ast.walk(inner))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.fixture(scope="module")
def client_package() -> Iterator[ModuleType]:
    assert (REPO_ROOT / "schema.graphql").is_file(), "run: messages-gateway export-schema"
    assert ARIADNE.is_file(), "scripts/setup.d/codegen.sh installs ariadne-codegen"
    shutil.rmtree(GENERATED / PACKAGE, ignore_errors=True)
    GENERATED.mkdir(exist_ok=True)
    result = subprocess.run(
        [str(ARIADNE)], cwd=EXAMPLE, capture_output=True, text=True, timeout=100
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(GENERATED))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(GENERATED))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_generated_client_needs_only_httpx_and_pydantic(client_package: ModuleType) -> None:
    modules: set[str] = set()
    for path in (GENERATED / PACKAGE).glob("*.py"):
        modules |= required_imports(path.read_text())
    third_party = {name for name in modules if name not in sys.stdlib_module_names}
    assert third_party <= ALLOWED_THIRD_PARTY, third_party
    assert {"httpx", "pydantic"} <= third_party


def test_required_imports_sees_through_optional_ones() -> None:
    source = "import httpx\ntry:\n    import websockets\nexcept ImportError:\n    pass\n"
    assert required_imports(source) == {"httpx"}


async def test_generated_client_talks_to_a_live_gateway(
    client_package: ModuleType, graphql_url: str
) -> None:
    client_class: Any = client_package.MessagesClient
    inputs: Any = client_package
    async with client_class(url=graphql_url) as client:
        created = await client.create_thread(
            input=inputs.CreateThreadInput(metadata={"source": "ariadne-codegen"})
        )
        assert created.create_thread.user_errors == []
        thread_id = created.create_thread.thread.id
        assert created.create_thread.thread.metadata == {"source": "ariadne-codegen"}

        posted = []
        for n in range(1, 6):
            result = await client.post_message(thread_id=thread_id, text=f"note {n}")
            assert result.create_message.user_errors == []
            posted.append(result.create_message.message)
        assert posted[0].role == inputs.MessageRole.USER

        # The newest two, then older pages through last/before until there are none.
        opened = await client.thread_with_last_messages(id=thread_id, count=2)
        connection = opened.thread.messages
        assert [m.text for m in connection.nodes] == ["note 5", "note 4"]
        assert connection.page_info.has_next_page is True
        pages = [[m.text for m in reversed(connection.nodes)]]
        cursor = connection.page_info.end_cursor
        while cursor is not None:
            older = await client.older_messages(thread_id=thread_id, before=cursor, count=2)
            pages.append([edge.node.text for edge in older.messages.edges])
            info = older.messages.page_info
            cursor = info.start_cursor if info.has_previous_page else None
        assert pages == [["note 4", "note 5"], ["note 2", "note 3"], ["note 1"]]

        updated = await client.update_message_metadata(
            thread_id=thread_id, id=posted[0].id, metadata={"pinned": "true"}
        )
        assert updated.update_message.message.metadata == {"pinned": "true"}
        deleted = await client.delete_message(thread_id=thread_id, id=posted[0].id)
        assert deleted.delete_message.deleted_message_id == posted[0].id

        after = await client.thread_with_last_messages(id=thread_id, count=10)
        assert [m.text for m in after.thread.messages.nodes] == [
            "note 5",
            "note 4",
            "note 3",
            "note 2",
        ]
        missing = await client.delete_message(thread_id=thread_id, id=posted[0].id)
        assert missing.delete_message.deleted_message_id is None
        assert [e.code for e in missing.delete_message.user_errors] == [
            inputs.UserErrorCode.NOT_FOUND
        ]

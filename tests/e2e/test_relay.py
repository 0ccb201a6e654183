"""Relay against the gateway: relay-compiler builds the documents, relay-runtime runs them.

The documents (``tests/e2e/relay/src/fragments.js``) are what a Relay chat UI
writes: a ``@connection`` over ``viewer.threads`` paginated by the Viewer's
``@refetchable`` query, and a ``@refetchable`` pagination fragment on ``Thread``
over ``messages``, refetched through ``Query.node``. relay-compiler validates them
against ``schema.graphql`` and generates the artifacts into a copy of the relay
directory under the test's temporary directory (never into the work tree, which may
be read-only or shared by concurrent runs); ``run-relay.mjs`` runs them
through relay-runtime's Environment against a real ``messages-gateway serve``,
and Relay's own connection handler merges the pages read back here. Installed by
``scripts/setup.d/relay.sh``; a missing install fails, never skips.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.store.server import ServerProcess

RELAY = REPO_ROOT / "tests" / "e2e" / "relay"
# What relay-compiler and run-relay.mjs read, copied into the workspace.
SOURCES = ("package.json", "run-relay.mjs", "src")
ARTIFACTS = {
    "SidebarQuery",
    "SidebarPaginationQuery",
    "Sidebar_viewer",
    "ThreadScreenQuery",
    "ThreadMessagesPaginationQuery",
    "ThreadMessages_thread",
}
PAGE = 20


def _node() -> str:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed: scripts/setup.d/relay.sh installs it"
    assert (RELAY / "node_modules" / ".installed-from-lock").is_file(), (
        "run scripts/setup.d/relay.sh (npm ci in tests/e2e/relay)"
    )
    return node


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the relay directory's sources, its installed ``node_modules`` linked in.

    The config is the checked-in one with the schema's path made absolute (it is
    relative to the relay directory), so the artifacts land in this copy only.
    """
    _node()  # Node.js and the locked install are there
    workspace = tmp_path_factory.mktemp("relay")
    for name in SOURCES:
        source = RELAY / name
        if source.is_dir():
            shutil.copytree(source, workspace / name)
        else:
            shutil.copy2(source, workspace / name)
    (workspace / "node_modules").symlink_to(RELAY / "node_modules", target_is_directory=True)
    config = json.loads((RELAY / "relay.config.json").read_text())
    config["schema"] = str((RELAY / config["schema"]).resolve())
    (workspace / "relay.config.json").write_text(json.dumps(config, indent=2))
    (workspace / config["artifactDirectory"]).mkdir()
    return workspace


@pytest.fixture(scope="module")
def compiled(workspace: Path) -> set[str]:
    """relay-compiler over the documents, into the workspace's empty ``__generated__``."""
    result = subprocess.run(
        [_node(), "node_modules/relay-compiler/cli.js"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    generated = workspace / "__generated__"
    return {path.name.removesuffix(".graphql.js") for path in generated.glob("*.graphql.js")}


@pytest.fixture(scope="module")
def relay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A gateway of its own: ``viewer.threads`` lists every thread it knows (no auth)."""
    workdir = tmp_path_factory.mktemp("relay-gateway")
    server = ServerProcess(workdir / "store.sqlite3", workdir)
    try:
        yield server
    finally:
        server.stop()


def test_relay_compiler_builds_the_pagination_documents(
    compiled: set[str], workspace: Path
) -> None:
    assert compiled == ARTIFACTS
    generated = workspace / "__generated__"
    sidebar = (generated / "SidebarPaginationQuery.graphql.js").read_text()
    assert '"handle": "connection"' in sidebar and '"key": "Sidebar_threads"' in sidebar
    refetch = (generated / "ThreadMessagesPaginationQuery.graphql.js").read_text()
    assert "node(id: $id)" in refetch  # the Thread fragment refetches through Query.node


def test_relay_pages_the_sidebar_and_a_thread_against_a_live_gateway(
    compiled: set[str], workspace: Path, relay_server: ServerProcess
) -> None:
    assert compiled == ARTIFACTS
    with httpx.Client(base_url=f"{relay_server.base_url}/v1", timeout=30) as rest:
        threads = [rest.post("/threads", json={}).json()["id"] for _ in range(45)]
        chat = rest.post("/threads", json={}).json()["id"]
        for n in range(25):
            posted = rest.post(
                f"/threads/{chat}/messages", json={"role": "user", "content": f"m{n}"}
            )
            assert posted.status_code == 200
    graphql_url = f"{relay_server.base_url}/graphql"
    expected = httpx.post(
        graphql_url,
        json={"query": "{ viewer { threads(first: 100) { nodes { id } } } }"},
        timeout=30,
    ).json()["data"]["viewer"]["threads"]["nodes"]
    expected_ids = [node["id"] for node in expected]
    assert sorted(expected_ids) == sorted([*threads, chat])
    result = subprocess.run(
        [_node(), "run-relay.mjs", graphql_url, "", chat, str(PAGE)],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout)
    assert seen["subject"] is None  # no authentication: every thread the gateway knows
    # Relay's connection handler merged three pages: all 46 threads, in the gateway's order.
    assert seen["sidebar"]["pages"] == [20, 20, 6]
    assert seen["sidebar"]["ids"] == expected_ids
    assert seen["sidebar"]["hasNextPage"] is False
    assert seen["thread"]["pages"] == [20, 5]
    assert seen["thread"]["texts"] == [f"m{n}" for n in range(25)]
    assert seen["thread"]["hasNextPage"] is False
    assert seen["operations"] == [
        "SidebarQuery",
        "SidebarPaginationQuery",
        "SidebarPaginationQuery",
        "ThreadScreenQuery",
        "ThreadMessagesPaginationQuery",
    ]


def test_the_documents_are_the_ones_in_the_repository() -> None:
    """The sources relay-compiler reads are checked in (the artifacts are not)."""
    source = (RELAY / "src" / "fragments.js").read_text()
    assert '@connection(key: "Sidebar_threads")' in source
    assert '@refetchable(queryName: "ThreadMessagesPaginationQuery")' in source
    assert Path(RELAY / "package-lock.json").is_file()

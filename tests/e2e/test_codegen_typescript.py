"""Schema-first codegen, TypeScript: GraphQL Code Generator + tsc on the published contract.

From ``schema.graphql`` and ``examples/operations``, graphql-codegen writes
``examples/typescript/generated``; ``tsc --noEmit`` must accept the typed client
(``src/client.ts``) and must reject code that misuses the generated types; then
the compiled demo drives a real server through the client, cursor pagination
included. The toolchain is installed by ``scripts/setup.d/codegen.sh`` (npm ci).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "typescript"
BIN = EXAMPLE / "node_modules" / ".bin"

pytestmark = pytest.mark.timeout(180)


def _run(*command: str | Path, cwd: Path = EXAMPLE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=150
    )


@pytest.fixture(scope="module")
def generated() -> Path:
    assert (REPO_ROOT / "schema.graphql").is_file(), "run: messages-gateway export-schema"
    assert BIN.is_dir(), "scripts/setup.d/codegen.sh installs the toolchain (npm ci)"
    shutil.rmtree(EXAMPLE / "generated", ignore_errors=True)
    result = _run(BIN / "graphql-codegen", "--config", "codegen.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    return EXAMPLE / "generated"


def test_codegen_writes_types_and_typed_documents(generated: Path) -> None:
    schema_ts = (generated / "schema.ts").read_text()
    operations = (generated / "operations.ts").read_text()
    assert "export type MessageConnection = {" in schema_ts
    assert "export type PageInfo = {" in schema_ts
    for name in (
        "ThreadWithLastMessages",
        "OlderMessages",
        "CreateThread",
        "PostMessage",
        "UpdateMessageMetadata",
        "DeleteMessage",
        "Sidebar",
    ):
        assert f"export const {name}Document = new TypedDocumentString(" in operations
    assert "export type OlderMessagesQueryVariables" in operations
    # The @oneOf input is an exclusive union, not an object of optionals.
    assert "imageUrl?: never" in operations


def test_tsc_accepts_the_typed_client(generated: Path) -> None:
    result = _run(BIN / "tsc", "--noEmit", "-p", "tsconfig.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_tsc_rejects_a_field_the_schema_does_not_have(generated: Path, tmp_path: Path) -> None:
    # The misuse lives in tmp_path, with a tsconfig there that extends the example's
    # and adds the file: nothing is written under the tracked examples/ tree.
    wrong = tmp_path / "wrong-field.check.ts"
    wrong.write_text(
        "import type { ThreadWithLastMessagesQuery } from "
        f"{json.dumps(str(generated / 'operations.js'))};\n"
        "export function title(q: ThreadWithLastMessagesQuery): string {\n"
        "  return q.thread?.title ?? '';\n"
        "}\n"
    )
    config = tmp_path / "tsconfig.json"
    config.write_text(
        json.dumps(
            {
                "extends": str(EXAMPLE / "tsconfig.json"),
                "compilerOptions": {
                    # The base's rootDir (".") and typeRoots would resolve next to it.
                    "rootDir": os.path.commonpath([EXAMPLE, tmp_path]),
                    "typeRoots": [str(EXAMPLE / "node_modules" / "@types")],
                },
                "include": [
                    str(EXAMPLE / "src" / "**" / "*.ts"),
                    str(EXAMPLE / "generated" / "**" / "*.ts"),
                    str(wrong),
                ],
            }
        )
    )
    result = _run(BIN / "tsc", "--noEmit", "-p", config, cwd=tmp_path)
    assert result.returncode != 0
    assert "wrong-field.check.ts" in result.stdout
    assert "Property 'title' does not exist" in result.stdout
    # The only error is the deliberate one: the example's own files still compile.
    errors = [line for line in result.stdout.splitlines() if "error TS" in line]
    assert len(errors) == 1 and "wrong-field.check.ts" in errors[0], result.stdout


def test_compiled_client_pages_through_a_live_gateway(
    generated: Path, graphql_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    compiled = _run(BIN / "tsc", "-p", "tsconfig.json", "--outDir", out)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (out / "package.json").write_text('{"type": "module"}\n')
    ran = _run("node", out / "src" / "demo.js", graphql_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    seen = json.loads(ran.stdout)
    assert seen["threadId"].startswith("thread_")
    # history(pageSize 2): the newest page first, then older pages via last/before.
    assert seen["pages"] == [
        ["message 4", "message 5"],
        ["message 2", "message 3"],
        ["message 1"],
    ]
    assert seen["metadata"] == {"read": "yes"}
    assert seen["deleted"] is True

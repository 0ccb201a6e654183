"""Strawberry's own query codegen (``strawberry codegen``) on every example operation.

Run as a user runs it, the CLI in a subprocess, with the schema and the plugins of
``gateway.schema.codegen``; each operation is given together with the shared
fragments (the codegen reads one document per file). The output must be there,
hold the operation's result (and variables) types, and, for Python, compile.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.server import REPO_ROOT

OPERATIONS = REPO_ROOT / "examples" / "operations"
FRAGMENTS = OPERATIONS / "fragments.graphql"
EXAMPLES = sorted(path for path in OPERATIONS.glob("*.graphql") if path != FRAGMENTS)
# plugin: (suffix of the file written, how it types Metadata)
PLUGINS = {
    "PythonPlugin": (".py", "metadata: dict[str, str]"),
    "TypeScriptPlugin": (".ts", "metadata: Record<string, string>"),
}


def test_there_are_example_operations() -> None:
    assert len(EXAMPLES) >= 6
    assert FRAGMENTS.exists()


@pytest.fixture(scope="module", params=sorted(PLUGINS))
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """One ``strawberry codegen`` run of ``plugin`` over every example: (plugin, output folder)."""
    plugin: str = request.param
    sources = tmp_path_factory.mktemp(f"codegen-{plugin}")
    for example in EXAMPLES:
        (sources / example.name).write_text(example.read_text() + "\n" + FRAGMENTS.read_text())
    out = sources / "generated"
    out.mkdir()
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "strawberry",
            "codegen",
            "--schema",
            "gateway.schema.codegen:schema",
            "-o",
            str(out),
            "-p",
            f"gateway.schema.codegen:{plugin}",
            *(str(sources / example.name) for example in EXAMPLES),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return plugin, out


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_strawberry_codegen_generates_types_for_the_operation(
    generated: tuple[str, Path], example: Path
) -> None:
    plugin, out = generated
    document = example.read_text()
    [name] = re.findall(r"^(?:query|mutation)\s+(\w+)", document, re.MULTILINE)
    suffix, metadata = PLUGINS[plugin]
    generated_file = out / (example.stem + suffix)
    code = generated_file.read_text()
    assert code.strip()
    assert f"{name}Result" in code
    if "$" in document.split("{", 1)[0]:  # the operation declares variables
        assert f"{name}Variables" in code
    assert metadata in code  # every example selects metadata (MessageFields, or its own)
    if plugin == "PythonPlugin":
        compile(code, str(generated_file), "exec")
    else:
        assert re.search(rf"type {name}Result = {{", code)

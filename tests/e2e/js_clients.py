"""Runs the Node scripts of ``tests/e2e/js`` (installed by ``scripts/setup.d/js-clients.sh``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from tests.e2e.conftest import REPO_ROOT

JS = REPO_ROOT / "tests" / "e2e" / "js"


def run_node_script(script: str, *arguments: str) -> Any:
    """Run ``node <script> <arguments>`` in ``tests/e2e/js``; its stdout's one JSON value."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed: scripts/setup.d/js-clients.sh installs it"
    assert (JS / "node_modules" / ".installed-from-lock").is_file(), (
        "run scripts/setup.d/js-clients.sh (npm ci in tests/e2e/js)"
    )
    result = subprocess.run(
        [node, script, *arguments],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)

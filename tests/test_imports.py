"""Every gateway package (and top-level module) imports alone, in a fresh interpreter:
no import cycle hides behind the order in which the app happens to import things.

A cycle (``schema`` -> ``observability`` -> ``schema`` was one) works when the outer
package is imported first and fails with "partially initialized module" when the
inner one is: here each is the first thing a new interpreter imports, with
warnings as errors. (A submodule's import starts with its package's, so packages
and top-level modules cover every entry point.)
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import gateway

ENTRY_POINTS = ["gateway"] + [
    info.name
    for info in pkgutil.iter_modules(gateway.__path__, prefix="gateway.")
    if info.name != "gateway.__main__"  # runs the command line
]


def _import_alone(module: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    return module, subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_package_imports_alone() -> None:
    packages = {name for name in ENTRY_POINTS if name.count(".") == 1}
    assert {
        "gateway.auth",
        "gateway.graphiql",
        "gateway.observability",
        "gateway.schema",
        "gateway.store",
        "gateway.upstream",
        "gateway.app",
    } <= packages
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(_import_alone, ENTRY_POINTS))
    assert len(results) == len(ENTRY_POINTS) > 10
    failed = {
        name: r.stderr.strip().splitlines()[-1:] for name, r in results.items() if r.returncode
    }
    assert not failed, failed

"""The peer: GraphQL Mesh (Mesh Compose + Hive Gateway), made runnable from a read-only folder.

The peer lives in ``shared/peers/mesh/`` beside the repository (its README says
how it is built and started). That folder may be read-only and must stay clean,
so ``prepare()`` copies it to a cache directory outside the repository
(``$XDG_CACHE_HOME/messages-gateway-bench/mesh``, ``~/.cache/...`` by default),
runs ``npm ci`` there and composes the supergraph from the shared OpenAPI
document (``OPENAPI_SPEC``). The copy is reused while the peer's files are
unchanged (a digest of them is stamped into it); otherwise it is made afresh.
Nothing of it enters the repository.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["MeshPeer", "find_peer_source", "prepare"]


def find_peer_source() -> Path:
    """``shared/peers/mesh`` next to the repository (or next to the worktree folder)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "peers" / "mesh"
        if (candidate / "package-lock.json").is_file():
            return candidate
    raise FileNotFoundError(
        "the Mesh peer was not found at ../shared/peers/mesh (pass --mesh-source)"
    )


def _digest(source: Path) -> str:
    """A digest of the peer's own files (not node_modules/ or build/)."""
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative.parts[0] in ("node_modules", "build") or not path.is_file():
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "messages-gateway-bench" / "mesh"


class MeshPeer:
    """A prepared copy of the peer: ``command(port, upstream_url)`` starts Hive Gateway."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def command(self, port: int, upstream_url: str) -> list[str]:
        """The foreground command (``start.sh`` execs ``hive-gateway ... --fork 1``)."""
        return [str(self.folder / "start.sh"), str(port), upstream_url]

    def env(self) -> dict[str, str]:
        return {"HOST": "127.0.0.1", "FORK": "1"}


def prepare(source: Path | None = None, folder: Path | None = None) -> MeshPeer:
    """A writable, installed, built copy of the peer (reused when already up to date)."""
    source = source or find_peer_source()
    folder = folder or _cache_dir()
    spec = (source / ".." / ".." / "upstream" / "openai-threads-messages.yaml").resolve()
    if not spec.is_file():
        raise FileNotFoundError(f"the shared OpenAPI document is missing: {spec}")
    want = _digest(source) + ":" + _digest(spec.parent)
    stamp = folder / ".prepared-from"
    if stamp.is_file() and stamp.read_text() == want and (folder / "build").is_dir():
        return MeshPeer(folder)
    if shutil.which("npm") is None:
        raise RuntimeError("the Mesh peer needs Node.js 20+ and npm on PATH")
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("node_modules", "build"))
    for path in [folder, *folder.rglob("*")]:  # the source is read-only: so is the copy
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    env = os.environ | {"OPENAPI_SPEC": str(spec)}
    print(f"mesh peer: npm ci in {folder} (about 30 s, once)", file=sys.stderr, flush=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        env=env,
        check=True,
        timeout=600,
    )
    subprocess.run(["npm", "run", "build"], cwd=folder, env=env, check=True, timeout=120)
    stamp.write_text(want)
    return MeshPeer(folder)

"""Where the vendored GraphiQL files live, and whether the set-up has put them there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["STATIC_DIR", "VENDOR_FILES", "VendoredAssets"]

STATIC_DIR = Path(__file__).parent / "static"
"""Served at ``/graphql/static``: the page's own script, and ``vendor/``."""

VENDOR_FILES = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
)
"""What ``scripts/setup.d/graphiql.sh`` copies into ``static/vendor``: the page needs each."""


@dataclass(frozen=True, slots=True)
class VendoredAssets:
    """The ``vendor`` folder of the static files; ``complete`` when every file is there."""

    static_dir: Path = STATIC_DIR

    @property
    def vendor_dir(self) -> Path:
        return self.static_dir / "vendor"

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in VENDOR_FILES if not (self.vendor_dir / name).is_file())

    @property
    def complete(self) -> bool:
        return not self.missing

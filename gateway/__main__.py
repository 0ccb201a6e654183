"""``python -m gateway`` is the same as the ``messages-gateway`` command."""

from gateway.cli import main

raise SystemExit(main())

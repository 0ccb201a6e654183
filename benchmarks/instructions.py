"""Instructions per operation, counted by valgrind: ``python -m benchmarks.instructions``.

This machine's CPU time drifts by up to 2x between runs (a shared VM), so two CPU
times taken minutes apart compare two machines. Executed instructions do not drift:
the same code on the same input executes the same instructions (``PYTHONHASHSEED``
fixed), whatever else the machine does, so two versions of the gateway can be
compared run after run, even in parallel. It is a proxy for CPU time, not a
measure of it: an instruction of interpreted Python (branchy, pointer-chasing) costs
more than one of ``json``'s C loops, so the instruction ratio of gateway and
passthrough reads lower than their CPU-time ratio (``benchmarks.profile --compare``).

Each screen is driven in-process exactly as ``benchmarks.profile`` drives it (same
mock upstream), twice under ``valgrind --tool=callgrind``: 30 operations of warm-up,
then ``--ops`` more; the difference divided by ``--ops`` is one operation's count,
start-up and warm-up excluded. Needs valgrind (``apt-get install valgrind``); a run
takes one to two minutes per count.

    .venv/bin/python -m benchmarks.instructions --screen chat --side gateway
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.profile import (
    Driver,
    _passthrough_targets,
    _requests,
    gateway_app,
    passthrough_app,
)

WARM_UP = 30
_COLLECTED = re.compile(rb"Collected : (\d+)")


async def drive(screen: str, side: str, ops: int) -> None:
    """``WARM_UP + ops`` operations of ``screen`` on ``side``, in this process."""
    if side == "gateway":
        async with gateway_app() as app:
            driver = Driver(app, "POST", "/graphql", _requests()[screen])
            for _ in range(WARM_UP + ops):
                await driver.once()
    else:
        async with passthrough_app() as app:
            driver = Driver(app, "GET", _passthrough_targets()[screen])
            for _ in range(WARM_UP + ops):
                await driver.once()


def counted(screen: str, side: str, ops: int) -> int:
    """The instructions of one process driving ``ops`` operations after the warm-up."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(root)}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--drive",
        "--screen",
        screen,
        "--side",
        side,
        "--ops",
        str(ops),
    ]
    done = subprocess.run(command, env=env, capture_output=True, timeout=1800, check=True)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError("valgrind printed no instruction count")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screen", default="chat", choices=sorted(_requests()))
    parser.add_argument("--side", default="gateway", choices=["gateway", "passthrough"])
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        asyncio.run(drive(args.screen, args.side, args.ops))
        return
    per_op = (counted(args.screen, args.side, args.ops) - counted(args.screen, args.side, 0)) / (
        args.ops
    )
    print(f"{args.screen}: {args.side} {per_op / 1e6:.2f} M instructions per operation")


if __name__ == "__main__":
    main()

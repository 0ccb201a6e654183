"""CPU per operation with and without ``gateway.lean_route``: ``python -m benchmarks.lean_route``.

Builds two gateway apps in this process the way ``benchmarks.profile`` does (remote
mode, upstream answered by a mock): one as ``create_app`` makes it, one with its
``LeanGraphQLRoute`` removed so that ``/graphql`` is strawberry's FastAPI route
again. Drives both through ASGI in alternating short blocks (``--blocks`` pairs of
``--ops`` operations), so that the machine's drift hits both alike, and prints the
median CPU per operation of each and the median of the paired ratios, for
``{ __typename }`` (routing overhead alone) and the chat-like-mesh screen.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from contextlib import AsyncExitStack
from typing import Any

from benchmarks.profile import Driver, _requests, gateway_app
from gateway.lean_route import LeanGraphQLRoute


async def _block(driver: Driver, ops: int) -> float:
    started = time.process_time()
    for _ in range(ops):
        await driver.once()
    return (time.process_time() - started) / ops * 1e6


async def compare(blocks: int, ops: int) -> None:
    async with AsyncExitStack() as stack:
        lean = await stack.enter_async_context(gateway_app())
        routed = await stack.enter_async_context(gateway_app())
        routed.router.routes[:] = [
            r for r in routed.router.routes if not isinstance(r, LeanGraphQLRoute)
        ]
        screens: list[tuple[str, dict[str, Any], int]] = [
            ("typename", {"query": "{ __typename }"}, ops * 3),
            ("chat-like-mesh", _requests()["chat-like-mesh"], ops),
        ]
        for name, payload, n in screens:
            fast = Driver(lean, "POST", "/graphql", payload)
            slow = Driver(routed, "POST", "/graphql", payload)
            await _block(fast, 50)
            await _block(slow, 50)
            with_lean: list[float] = []
            without: list[float] = []
            for _ in range(blocks):
                without.append(await _block(slow, n))
                with_lean.append(await _block(fast, n))
            ratio = statistics.median(a / b for a, b in zip(with_lean, without, strict=True))
            print(
                f"{name}: FastAPI route {statistics.median(without):.0f} µs, "
                f"lean route {statistics.median(with_lean):.0f} µs CPU per operation "
                f"(medians of {blocks} blocks); lean / FastAPI = {ratio:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--ops", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(compare(args.blocks, args.ops))


if __name__ == "__main__":
    main()

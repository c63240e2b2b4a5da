"""Running many requests at once, but only so many at a time (pages of a listing, per-item calls)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence


async def gather_bounded[T](limit: int, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run ``calls`` concurrently, at most ``limit`` at a time, and return their results in order.

    The first failure is raised as is, after the calls still running or waiting have been cancelled.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await call()

    tasks = [asyncio.ensure_future(run(call)) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

"""Ordered deliveries: what every webhook-sending simulator needs.

A provider posts the events of one call in order, each after the previous
post of that call has finished (or given up), while calls of their own go out
side by side. Tests wait for all of it, and a closing simulator cancels it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable


class OrderedDeliveries:
    """Runs delivery jobs in order per chain (a call), concurrently across chains."""

    def __init__(self) -> None:
        """Start with nothing under way."""
        self.tasks: set[asyncio.Task[None]] = set()
        self._chains: dict[str, asyncio.Task[None]] = {}

    def schedule(
        self, chains: Iterable[str], job: Callable[[], Awaitable[None]]
    ) -> asyncio.Task[None]:
        """Run `job` once every earlier job of its chains is done."""
        keys = set(chains)
        previous = [
            task
            for key in keys
            if (task := self._chains.get(key)) is not None and not task.done()
        ]
        task = asyncio.create_task(self._after(previous, job))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        for key in keys:
            self._chains[key] = task
        task.add_done_callback(lambda done: self._forget(keys, done))
        return task

    @staticmethod
    async def _after(
        previous: list[asyncio.Task[None]], job: Callable[[], Awaitable[None]]
    ) -> None:
        if previous:
            await asyncio.wait(previous)
        await job()

    def _forget(self, keys: set[str], task: asyncio.Task[None]) -> None:
        for key in keys:
            if self._chains.get(key) is task:
                del self._chains[key]

    def pending(self) -> list[asyncio.Task[None]]:
        """The jobs not finished yet."""
        return [task for task in self.tasks if not task.done()]

    async def cancel(self) -> None:
        """Cancel every job and wait until they have stopped."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""Ordered deliveries: what every webhook-sending simulator needs.

A provider posts the events of one call in order, each after the previous
post of that call has finished (or given up), while calls of their own go out
side by side. Tests wait for all of it, hold events back to release them later
(in reverse, to test ordering), and a closing simulator cancels it.

- `OrderedDeliveries` runs delivery jobs in order per chain (a call).
- `Outbox` queues a simulator's events on it, or holds them back on demand.
- `Poster` sends one HTTP POST and says how the receiver answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
import ssl

from aiohttp import ClientError, ClientSession, ClientTimeout


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


class Outbox[E]:
    """A simulator's outgoing events: delivered in order per chain, or held back.

    `chain` names the chain (a call) of an event; `send` delivers a list of
    events in order (retries, duplicates and signing are the provider's).
    """

    def __init__(
        self,
        chain: Callable[[E], str],
        send: Callable[[list[E]], Awaitable[None]],
    ) -> None:
        """Start empty, not holding."""
        self._chain = chain
        self._send = send
        self._deliveries = OrderedDeliveries()
        self._holding = False
        self._held: list[E] = []

    def put(self, event: E) -> None:
        """Deliver `event` after the earlier ones of its chain, or hold it."""
        if self._holding:
            self._held.append(event)
        else:
            self.schedule([event])

    def schedule(self, events: list[E]) -> asyncio.Task[None]:
        """Deliver `events` in order, after earlier deliveries of their chains."""
        return self._deliveries.schedule(
            (self._chain(event) for event in events), lambda: self._send(events)
        )

    def hold(self) -> None:
        """Keep events back instead of delivering them."""
        self._holding = True

    async def release(self, *, reverse: bool = False) -> None:
        """Deliver the held events (newest first if `reverse`); stop holding.

        Returns once the released deliveries, retries included, have finished.
        """
        self._holding = False
        held, self._held = self._held, []
        if reverse:
            held.reverse()
        if held:
            await asyncio.wait([self.schedule(held)])

    def pending(self) -> list[asyncio.Task[None]]:
        """The deliveries not finished yet."""
        return self._deliveries.pending()

    async def cancel(self) -> None:
        """Forget the held events; cancel the deliveries and wait for them."""
        self._held.clear()
        await self._deliveries.cancel()


@dataclass(frozen=True)
class Posted:
    """How a receiver answered one POST; `status` is None when nothing answered."""

    status: int | None
    location: str | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """Whether the receiver took it: any non-2xx (3xx too) counts as not."""
        return self.status is not None and 200 <= self.status < 300


class Poster:
    """POSTs deliveries through one client session, opened when first needed."""

    def __init__(self, timeout: float) -> None:
        """Give each POST `timeout` seconds in all before it counts as unanswered."""
        self.timeout = timeout
        # None: verify https receivers against the system's CAs.
        self.ssl_context: ssl.SSLContext | None = None
        self._session: ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Posted:
        """POST `body` to `url` without following redirects; never raise."""
        try:
            async with self._open().post(
                url,
                data=body,
                headers=dict(headers),
                timeout=ClientTimeout(total=self.timeout),
                allow_redirects=False,
                ssl=self.ssl_context or True,
            ) as response:
                return Posted(response.status, response.headers.get("Location"))
        except (TimeoutError, ClientError, OSError) as err:
            return Posted(None, error=type(err).__name__)

    def _open(self) -> ClientSession:
        if self._session is None or self._session.closed:
            self._session = ClientSession()
        return self._session

    async def close(self) -> None:
        """Close the client session (a later POST opens a new one)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

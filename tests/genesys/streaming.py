"""The Genesys client as the client tests drive it: built, and streaming."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib

import aiohttp

from custom_components.switchboard.providers.genesys import GenesysClient
from custom_components.switchboard.providers.model import CallEvent
from tests.simulators.genesys import GenesysSimulator


def make_client(session: aiohttp.ClientSession, sim: GenesysSimulator) -> GenesysClient:
    return GenesysClient(session, sim.base_url, sim.username, sim.password)


class Listener:
    """Collects what async_stream reports."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.connections: list[bool] = []
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def on_events(self, events: list[CallEvent]) -> None:
        self.events.extend(events)
        self._poke()

    def on_connection(self, up: bool) -> None:
        self.connections.append(up)
        self._poke()

    def _poke(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not condition():
                # Some conditions change without a report: look again now and then.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

    def of(self, call_id: str) -> list[CallEvent]:
        return [event for event in self.events if event.call_id == call_id]


@contextlib.asynccontextmanager
async def streaming(client: GenesysClient) -> AsyncGenerator[Listener]:
    listener = Listener()
    listener.task = asyncio.create_task(
        client.async_stream(listener.on_events, listener.on_connection)
    )
    try:
        yield listener
    finally:
        await client.async_stop()
        await listener.task

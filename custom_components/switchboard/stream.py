"""Runs a streaming provider's connection for an entry, and tells who cares."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback

from .const import LOGGER
from .providers.base import StreamProvider
from .providers.model import AuthenticationError
from .reconcile import Reconciler

if TYPE_CHECKING:
    from .data import SwitchboardConfigEntry

type ConnectionListener = Callable[[], None]


class StreamRunner:
    """Keeps the provider's event stream open while the entry is loaded."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SwitchboardConfigEntry,
        provider: StreamProvider,
        reconciler: Reconciler,
    ) -> None:
        """Run `provider`'s stream, applying its events through `reconciler`."""
        self._hass = hass
        self._entry = entry
        self._provider = provider
        self._reconciler = reconciler
        self._listeners: list[ConnectionListener] = []
        self._ever_connected = False
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    def listen(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call `listener` when the stream goes up or down."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_start(self) -> None:
        """Start the stream in the background; async_stop() ends it."""
        self._task = self._entry.async_create_background_task(
            self._hass, self._async_run(), f"switchboard stream {self._entry.title}"
        )

    async def async_stop(self) -> None:
        """Leave the provider's stream cleanly and wait for it to end.

        Called from async_unload_entry: after it, the entry's on_unload
        callbacks close the entry's HTTP session and its background tasks are
        cancelled, and a cancelled stream cannot leave (CometD
        /meta/disconnect).
        """
        await self._provider.async_stop()
        if self._task is not None:
            await asyncio.wait([self._task])

    async def _async_run(self) -> None:
        try:
            await self._provider.async_stream(
                self._reconciler.apply, self._on_connection
            )
        except AuthenticationError:
            self._on_connection(connected=False)
            self._entry.async_start_reauth(self._hass)

    @callback
    def _on_connection(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        if connected:
            if self._ever_connected:
                LOGGER.info("The event stream of %s is back", self._entry.title)
            self._ever_connected = True
            # Events may have been missed while it was down (or before it began).
            self._reconciler.schedule()
        else:
            LOGGER.warning(
                "Lost the event stream of %s; its devices are unavailable until it"
                " returns",
                self._entry.title,
            )
        for listener in list(self._listeners):
            listener()

"""Keeps the call book true to the provider, even when events go missing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .calls import CallBook
from .const import LOGGER
from .providers.base import KeepAliveProvider, Provider, ReconcilingProvider
from .providers.model import CallEvent, CallState, ProviderError

if TYPE_CHECKING:
    from .data import SwitchboardConfigEntry

# While calls are live, re-read them this often: a missed "ended" event must
# not leave a call ringing forever.
RECONCILE_INTERVAL = timedelta(minutes=2)
# Graph ends a call that hears no keepAlive within 45 minutes; say it sooner.
KEEP_ALIVE_INTERVAL = timedelta(minutes=15)
# States a call reaches only after events we would have seen first.
_LATE_STATES = (CallState.TALKING, CallState.ON_HOLD)


class Reconciler:
    """Applies a provider's events and re-reads its calls after any gap.

    A provider that lists its calls is re-read as a whole; any other has each
    live call looked up, so a lost "ended" cannot leave a call ringing forever.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SwitchboardConfigEntry,
        provider: Provider,
        calls: CallBook,
    ) -> None:
        """Keep `calls` true to `provider`."""
        self._hass = hass
        self._entry = entry
        self._provider = provider
        self._lister = provider if isinstance(provider, ReconcilingProvider) else None
        self._calls = calls
        self._task: asyncio.Task[None] | None = None

    def apply(self, events: list[CallEvent]) -> None:
        """Apply events; an event of a call we never saw begin reveals a gap."""
        gap = any(
            event.state in _LATE_STATES and not self._calls.knows(event.call_id)
            for event in events
        )
        self._calls.apply_all(events)
        if gap:
            self.schedule()

    @callback
    def async_start_polling(self) -> None:
        """Re-read the calls now and then while any is live; keep them alive."""

        @callback
        def _tick(_now: datetime) -> None:
            if len(self._calls):
                self.schedule()

        self._entry.async_on_unload(
            async_track_time_interval(self._hass, _tick, RECONCILE_INTERVAL)
        )
        if isinstance(self._provider, KeepAliveProvider):
            self._entry.async_on_unload(
                async_track_time_interval(
                    self._hass,
                    partial(self._async_keep_alive, self._provider),
                    KEEP_ALIVE_INTERVAL,
                )
            )

    async def _async_keep_alive(
        self, keeper: KeepAliveProvider, _now: datetime
    ) -> None:
        for call in self._calls.live_calls():
            if call.state not in _LATE_STATES:
                continue
            try:
                ended = await keeper.async_keep_alive(call)
            except ProviderError as err:
                LOGGER.warning("Could not keep call %s alive: %s", call.call_id, err)
                continue
            if ended is not None:
                self._calls.apply(ended)

    @callback
    def schedule(self) -> None:
        """Re-read the provider's calls soon, once however often it is asked."""
        if self._task and not self._task.done():
            return
        self._task = self._entry.async_create_background_task(
            self._hass, self.async_reconcile(), "switchboard reconcile"
        )

    async def async_reconcile(self) -> None:
        """Re-read the provider's calls; end the ones it no longer has."""
        if self._lister is None:
            await self._async_look_up_each()
            return
        live_before = {call.call_id for call in self._calls.live_calls()}
        try:
            events = await self._lister.async_list_calls()
        except ProviderError as err:
            LOGGER.warning(
                "Could not re-read the calls of %s: %s", self._entry.title, err
            )
            return
        self._calls.reconcile(events, live_before, datetime.now(UTC))

    async def _async_look_up_each(self) -> None:
        for call in self._calls.live_calls():
            try:
                event = await self._provider.async_refresh_call(call)
            except ProviderError as err:
                LOGGER.warning("Could not look up call %s: %s", call.call_id, err)
                continue
            if event is not None:
                self._calls.apply(event)

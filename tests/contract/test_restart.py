"""A Home Assistant restart in the middle of a call, for every provider.

A restart here is what Home Assistant does to the entry: unload it, then set
it up again, with a new hub and an empty CallBook, while the provider (the
simulator) keeps the call. What the entry shows afterwards comes only from the
provider:

- Telnyx, Webex and Genesys can list their calls. Set-up re-reads them
  (`async_reread`): a ringing call rings again, a talking call is still talking,
  and a call that ended while Home Assistant was down is gone.
- Graph cannot list a bot's calls; it can only look a call up by its id
  (GET /communications/calls/{id}), and after a restart no id is known (the
  CallBook is not stored): a call that was ringing or talking is forgotten,
  and the sensor shows idle. Its end is the end of a call never seen: it is
  counted nowhere, not even as missed. Only a later notification of a live
  state (Graph notifies state changes) would bring it back; a forgotten
  answered call gets no keepAlive, so Graph ends it within 45 minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from homeassistant.core import HomeAssistant, callback

from custom_components.switchboard.providers.base import ReconcilingProvider
from tests.const import CALLER
from tests.helpers import record_events, state_of

from .harness import Harness

# The one provider that cannot list its calls (see the module's docstring).
CANNOT_LIST = "graph"


async def restart(
    hass: HomeAssistant,
    harness: Harness,
    while_down: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Unload the entry, run `while_down`, then set the entry up again."""
    entry_id = harness.entry.entry_id
    assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()
    if while_down is not None:
        await while_down()
    assert await hass.config_entries.async_setup(entry_id)
    await available(harness)
    await harness.settle()


async def available(harness: Harness) -> None:
    """Wait until the entry's provider is reachable (a stream has connected)."""
    hub = harness.entry.runtime_data
    if hub.available:
        return
    connected = asyncio.Event()

    @callback
    def _changed() -> None:
        if hub.available:
            connected.set()

    stop = hub.async_subscribe_availability(_changed)
    try:
        await connected.wait()
    finally:
        stop()


def lists_calls(harness: Harness) -> bool:
    """Whether the entry's provider can list its calls, as the hub sees it."""
    provider = harness.entry.runtime_data.provider
    listing = isinstance(provider, ReconcilingProvider)
    assert listing is (harness.provider != CANNOT_LIST)
    return listing


async def test_a_ringing_call_rings_after_a_restart(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await harness.ring()
    assert state_of(hass, harness.sensor).state == "ringing"

    await restart(hass, harness)

    sensor = state_of(hass, harness.sensor)
    if not lists_calls(harness):
        assert sensor.state == "idle"
        assert sensor.attributes["active_calls"] == 0
        return
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == call_id
    assert sensor.attributes["remote_number"] == CALLER
    assert sensor.attributes["active_calls"] == 1
    # Still a call to answer.
    response = await harness.act("answer_call")
    assert response["call_id"] == call_id
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"


async def test_a_talking_call_talks_after_a_restart(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await harness.ring()
    await harness.act("answer_call")
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"

    await restart(hass, harness)

    sensor = state_of(hass, harness.sensor)
    if not lists_calls(harness):
        assert sensor.state == "idle"
        assert sensor.attributes["active_calls"] == 0
        return
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id
    assert sensor.attributes["active_calls"] == 1
    # And it can be hung up from Home Assistant.
    response = await harness.act("hangup_call")
    assert response["call_id"] == call_id
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"


async def test_a_call_that_ended_while_down_is_gone_after_a_restart(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await harness.ring()
    await harness.act("answer_call")
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"

    async def hang_up() -> None:
        await harness.hang_up_remotely(call_id)

    await restart(hass, harness, while_down=hang_up)

    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "idle"
    assert sensor.attributes["active_calls"] == 0
    assert lists_calls(harness) is (harness.provider != CANNOT_LIST)


async def test_a_forgotten_call_stays_forgotten(
    hass: HomeAssistant, harness: Harness
) -> None:
    """After the restart, the end of a ringing call: shown only if it was listed."""
    call_id = await harness.ring()
    await restart(hass, harness)
    fired = record_events(hass, harness.event)

    await harness.abandon(call_id)
    await harness.settle()

    assert state_of(hass, harness.sensor).state == "idle"
    # A listed call that rang out is a missed call; a forgotten one is nothing.
    assert fired == (["missed"] if lists_calls(harness) else [])

"""Devices added or removed at the provider follow without a reload."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.switchboard.hub import DEVICES_INTERVAL
from tests.fixtures.genesys import genesys_settle
from tests.helpers import KITCHEN_SENSOR, state_of
from tests.simulators.genesys import GenesysSimulator
from tests.simulators.telnyx import TelnyxSimulator

LOBBY = "+15550100003"
LOBBY_SENSOR = "sensor.15550100003_call"
LOBBY_ENTITIES = (
    LOBBY_SENSOR,
    "sensor.15550100003_caller",
    "sensor.15550100003_missed_calls",
    "sensor.15550100003_last_call",
    "event.15550100003_call_activity",
    "button.15550100003_answer",
    "button.15550100003_decline",
    "button.15550100003_hang_up",
)


async def next_listing(hass: HomeAssistant) -> None:
    """Let the periodic re-listing of the devices run, and its aftermath."""
    async_fire_time_changed(hass, dt_util.utcnow() + DEVICES_INTERVAL)
    await hass.async_block_till_done()


def device_names(hass: HomeAssistant, entry: MockConfigEntry) -> set[str | None]:
    registry = dr.async_get(hass)
    return {
        device.name
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
    }


async def test_a_number_added_at_telnyx_appears_and_a_removed_one_goes(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    setup_telnyx: MockConfigEntry,
) -> None:
    assert hass.states.get(LOBBY_SENSOR) is None
    lobby_id = telnyx.add_phone_number(application_id, LOBBY)
    await next_listing(hass)
    for entity_id in LOBBY_ENTITIES:
        assert state_of(hass, entity_id).state != "unavailable", entity_id
    assert LOBBY in device_names(hass, setup_telnyx)

    # A call to the new number rings there, without a reload.
    call_id = await telnyx.ring(LOBBY, "+15557654321")
    await telnyx.wait_for_webhooks()
    await hass.async_block_till_done()
    assert state_of(hass, LOBBY_SENSOR).state == "ringing"
    await telnyx.remote_hangup(call_id)
    await telnyx.wait_for_webhooks()
    await hass.async_block_till_done()

    del telnyx.phone_numbers[lobby_id]
    await next_listing(hass)
    assert LOBBY not in device_names(hass, setup_telnyx)
    assert hass.states.get(LOBBY_SENSOR) is None
    # The others are untouched.
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"


async def test_a_failed_listing_changes_nothing(
    hass: HomeAssistant, telnyx: TelnyxSimulator, setup_telnyx: MockConfigEntry
) -> None:
    before = device_names(hass, setup_telnyx)
    telnyx.add_phone_number(next(iter(telnyx.applications)), LOBBY)
    telnyx.fail_next(503, path_contains="/phone_numbers", times=3)
    await next_listing(hass)
    assert device_names(hass, setup_telnyx) == before
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"


@pytest.mark.usefixtures("setup_genesys")
async def test_an_event_naming_a_new_agent_device_adds_it(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    new_id = genesys.add_device("5007")
    genesys.ring(new_id, caller="+15557654321")
    await genesys_settle(hass, genesys)
    await hass.async_block_till_done()
    await genesys_settle(hass, genesys)
    assert state_of(hass, "sensor.5007_call").state == "ringing"

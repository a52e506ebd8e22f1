"""A new Call sensor is exposed to Assist; the user's choice stands from then on."""

from __future__ import annotations

from homeassistant.components.homeassistant.exposed_entities import (
    async_should_expose,
)
from homeassistant.core import HomeAssistant
import pytest

from tests.const import CALLER
from tests.contract.harness import CALLER_NAME, Harness
from tests.helpers import KITCHEN_SENSOR, SENSOR, state_of

from .helpers import TELNYX, Phones, commands, say

pytestmark = TELNYX


async def test_new_call_sensors_are_exposed(
    hass: HomeAssistant, voice: Harness
) -> None:
    assert async_should_expose(hass, "conversation", SENSOR)
    assert async_should_expose(hass, "conversation", KITCHEN_SENSOR)
    # Nothing else of Switchboard's is exposed for it.
    assert not async_should_expose(hass, "conversation", voice.button)


@pytest.mark.parametrize("assist", [False], indirect=True)
async def test_not_when_assist_takes_no_new_entities(
    hass: HomeAssistant, voice: Harness
) -> None:
    assert not async_should_expose(hass, "conversation", SENSOR)
    call_id = await voice.ring(CALLER, CALLER_NAME)
    assert await say(hass, "answer the call") == "No phone is exposed to Assist."
    assert commands(voice, call_id) == []


async def test_an_unexposed_call_sensor_stays_unexposed(
    hass: HomeAssistant, phones: Phones
) -> None:
    phones.expose_kitchen(False)
    entry = phones.harness.entry
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"
    assert not async_should_expose(hass, "conversation", KITCHEN_SENSOR)
    assert async_should_expose(hass, "conversation", SENSOR)

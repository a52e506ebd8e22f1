"""The caller sensor counts an answered call's duration up, and stops at its end."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tests import helpers
from tests.helpers import SENSOR, ring, settle, state_of
from tests.simulators.telnyx import TelnyxSimulator

pytestmark = pytest.mark.usefixtures("setup_telnyx")

CALLER_SENSOR = "sensor.15550100001_caller"
call_action = partial(helpers.call_action, entity_id=SENSOR)


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_duration_counts_while_answered_and_is_not_recorded(
    hass: HomeAssistant, telnyx: TelnyxSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(dt_util.utcnow())
    await ring(hass, telnyx)
    # Ringing is not talking: no duration yet, and no clock running.
    assert state_of(hass, CALLER_SENSOR).attributes["duration"] is None
    await tick(hass, freezer, 3)
    assert state_of(hass, CALLER_SENSOR).attributes["duration"] is None

    await call_action(hass, "answer_call")
    await settle(hass, telnyx)
    caller = state_of(hass, CALLER_SENSOR)
    assert caller.attributes["state"] == "talking"
    assert caller.attributes["duration"] == 0
    # A row a second would fill the recorder: it leaves the duration out.
    assert caller.state_info is not None
    assert "duration" in caller.state_info["unrecorded_attributes"]

    for second in range(1, 4):
        await tick(hass, freezer, 1)
        assert state_of(hass, CALLER_SENSOR).attributes["duration"] == second
    await tick(hass, freezer, 7)
    assert state_of(hass, CALLER_SENSOR).attributes["duration"] == 10

    await call_action(hass, "hangup_call")
    await settle(hass, telnyx)
    ended = state_of(hass, CALLER_SENSOR)
    assert ended.attributes["duration"] is None
    # The clock stopped with the call: later seconds write nothing.
    await tick(hass, freezer, 5)
    assert state_of(hass, CALLER_SENSOR).last_updated == ended.last_updated
    last_call = state_of(hass, "sensor.15550100001_last_call")
    assert last_call.attributes["duration"] == 10

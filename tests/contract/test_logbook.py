"""The logbook: one line per call stage (and keys pressed), naming device and caller."""

from __future__ import annotations

from typing import Any

from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.switchboard.const import DOMAIN
from tests.helpers import device_of

from .harness import SECOND_CALLER, Capability, Harness
from .providers import capable


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant, as the logbook needs it."""


@pytest.fixture
async def logbook(hass: HomeAssistant) -> None:
    """Set the logbook up before the harness starts Home Assistant's HTTP server."""
    assert await async_setup_component(hass, "logbook", {})


async def logbook_lines(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, harness: Harness
) -> list[tuple[str, str, str]]:
    """Return the Switchboard lines of the logbook: (name, message, entity)."""
    await async_wait_recording_done(hass)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": dt_util.utc_from_timestamp(0).isoformat(),
        }
    )
    reply: dict[str, Any] = await client.receive_json()
    assert reply["success"], reply
    return [
        (line["name"], line["message"], line["entity_id"])
        for line in reply["result"]
        if line.get("domain") == DOMAIN
    ]


@pytest.mark.parametrize("harness", ["telnyx", "genesys"], indirect=True)
async def test_each_call_stage_is_one_line_naming_the_caller(
    hass: HomeAssistant,
    logbook: None,
    hass_ws_client: WebSocketGenerator,
    harness: Harness,
) -> None:
    device = dr.async_get(hass).async_get(device_of(hass, harness.sensor))
    assert device is not None
    dr.async_get(hass).async_update_device(device.id, name_by_user="Front desk line")

    answered = await harness.ring()
    await harness.act("answer_call")
    await harness.settle()
    await harness.act("hangup_call", call_id=answered)
    await harness.settle()
    missed = await harness.ring(SECOND_CALLER, "Charles Babbage")
    await harness.abandon(missed)
    await harness.settle()

    caller = harness.caller_shown()
    second = harness.caller_shown(SECOND_CALLER, "Charles Babbage")
    assert await logbook_lines(hass, hass_ws_client, harness) == [
        ("Front desk line", f"incoming call from {caller}", harness.event),
        ("Front desk line", f"answered the call from {caller}", harness.event),
        ("Front desk line", f"call with {caller} ended", harness.event),
        ("Front desk line", f"incoming call from {second}", harness.event),
        ("Front desk line", f"missed a call from {second}", harness.event),
    ]


@pytest.mark.parametrize("harness", capable(Capability.DIGITS), indirect=True)
async def test_keys_pressed_are_one_line_naming_the_caller(
    hass: HomeAssistant,
    logbook: None,
    hass_ws_client: WebSocketGenerator,
    harness: Harness,
) -> None:
    device = dr.async_get(hass).async_get(device_of(hass, harness.sensor))
    assert device is not None
    dr.async_get(hass).async_update_device(device.id, name_by_user="Gate")

    call_id = await harness.ring()
    await harness.act("answer_call")
    await harness.settle()
    await harness.press(call_id, "1")
    await harness.settle()

    caller = harness.caller_shown()
    assert (await logbook_lines(hass, hass_ws_client, harness))[-1] == (
        "Gate",
        f"{caller} pressed 1",
        harness.event,
    )

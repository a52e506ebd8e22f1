"""A Webex user without preferred answer endpoints: one device, the primary one.

Webex documents that the list of preferred answer endpoints "is empty if the
person has no endpoints assigned which support the preferred answer endpoint
functionality", and that an answer "when no endpointId is specified" is
answered "on the user's primary device". Such a user gets one device for that
primary device; answering on it names no endpoint.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import DOMAIN
from custom_components.switchboard.providers.model import (
    ActionNotAllowedError,
    Call,
    CallAction,
    CallState,
    Device,
    Direction,
)
from custom_components.switchboard.providers.webex import WebexClient
from tests.fixtures.webex import WEBEX_DESK_PHONE
from tests.helpers import press, record_events, state_of
from tests.simulators.webex import WebexSimulator

CALLER = "+15557654321"
SENSOR = "sensor.primary_device_call"
ANSWER = "button.primary_device_answer"
HANG_UP = "button.primary_device_hang_up"
# The fixture's person's work number, as the client normalizes it.
LINE = "+15550100100"


@pytest.fixture
def no_preferred_endpoints(webex: WebexSimulator) -> None:
    """None of the user's endpoints supports the preferred answer endpoint."""
    for endpoint in webex.endpoints.values():
        endpoint.preferred_capable = False


@pytest.fixture
async def primary_entry(
    no_preferred_endpoints: None, setup_webex: MockConfigEntry
) -> MockConfigEntry:
    """The user's entry, set up with no preferred answer endpoint to list."""
    del no_preferred_endpoints
    return setup_webex


def answers(webex: WebexSimulator) -> list[dict[str, Any]]:
    """The bodies of the answer commands Webex received."""
    return [
        request.body
        for request in webex.requests
        if request.method == "POST" and request.path.endswith("/calls/answer")
    ]


async def settle(hass: HomeAssistant, webex: WebexSimulator) -> None:
    await webex.wait_for_webhooks()
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_the_client_lists_the_primary_device(
    no_preferred_endpoints: None, webex_client: WebexClient, webex: WebexSimulator
) -> None:
    del no_preferred_endpoints
    devices = await webex_client.async_get_devices()
    assert devices == [Device("primary", "Primary device", "Primary device", LINE)]
    call_id = await webex.ring(CALLER)
    ringing = next(
        event
        for event in await webex_client.async_list_calls()
        if event.call_id == call_id
    )
    assert ringing.device_ids == ("primary",)


async def test_one_device_answers_on_the_primary_device(
    hass: HomeAssistant,
    webex: WebexSimulator,
    primary_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    [device] = dr.async_entries_for_config_entry(
        device_registry, primary_entry.entry_id
    )
    assert device.name == "Primary device"
    assert device.identifiers == {(DOMAIN, f"{primary_entry.unique_id}_primary")}
    fired = record_events(hass, "event.primary_device_call_activity")

    call_id = await webex.ring(CALLER, "Ada Lovelace")
    await settle(hass, webex)
    sensor = state_of(hass, SENSOR)
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == call_id
    assert sensor.attributes["remote_number"] == CALLER
    assert sensor.attributes["local_number"] == LINE

    await press(hass, ANSWER)
    await settle(hass, webex)
    # No endpointId: Webex answers on the primary device (the desk phone).
    assert answers(webex) == [{"callId": call_id}]
    assert webex.calls[call_id].endpoint_id == webex.endpoint_id(WEBEX_DESK_PHONE)
    sensor = state_of(hass, SENSOR)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id

    await press(hass, HANG_UP)
    await settle(hass, webex)
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "answered", "ended"]


async def test_an_answer_may_not_name_an_endpoint_that_is_not_preferred(
    no_preferred_endpoints: None, webex_client: WebexClient, webex: WebexSimulator
) -> None:
    """The simulator is as strict as the documentation: only listed endpoints."""
    del no_preferred_endpoints
    await webex_client.async_get_devices()
    call_id = await webex.ring(CALLER)
    desk = Device(webex.endpoint_id(WEBEX_DESK_PHONE), WEBEX_DESK_PHONE, "Desk phone")
    call = Call(call_id, (desk.device_id,), Direction.INCOMING, CallState.RINGING)
    with pytest.raises(ActionNotAllowedError, match="endpointId must be one of"):
        await webex_client.async_perform(CallAction.ANSWER, call, desk, {})
    assert webex.calls[call_id].state == "alerting"

"""Ringing, answering, rejecting and hanging up: the same for every provider."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.switchboard.const import DOMAIN
from tests.const import CALLER
from tests.helpers import assert_press_refused, press, record_events, state_of

from .harness import CALLER_NAME, SECOND_CALLER, Harness
from .providers import NOT_REJECTING_PROVIDERS, REJECTING_PROVIDERS


async def test_ring_answer_by_action_and_hang_up(
    hass: HomeAssistant, harness: Harness
) -> None:
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == call_id
    assert sensor.attributes["direction"] == "incoming"
    assert sensor.attributes["remote_number"] == CALLER
    assert sensor.attributes["remote_name"] == harness.remote_name(CALLER_NAME)
    assert sensor.attributes["active_calls"] == 1
    assert fired == ["incoming"]
    incoming = state_of(hass, harness.event).attributes
    assert incoming["event_type"] == "incoming"
    assert incoming["call_id"] == call_id
    assert incoming["remote_number"] == CALLER
    assert incoming["remote_name"] == harness.remote_name(CALLER_NAME)

    response = await harness.act("answer_call")
    assert response == {"call_id": call_id, "state": "ringing"}
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["answered_at"] is not None
    assert fired == ["incoming", "answered"]
    assert state_of(hass, harness.event).attributes["call_id"] == call_id

    response = await harness.act("hangup_call")
    assert response == {"call_id": call_id, "state": "talking"}
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "idle"
    assert sensor.attributes["active_calls"] == 0
    assert fired == ["incoming", "answered", "ended"]
    assert state_of(hass, harness.event).attributes["call_id"] == call_id


async def test_answer_button(hass: HomeAssistant, harness: Harness) -> None:
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    assert state_of(hass, harness.button).state != STATE_UNAVAILABLE
    await harness.press_answer()
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id
    assert fired == ["incoming", "answered"]


async def test_unanswered_ring_is_missed(hass: HomeAssistant, harness: Harness) -> None:
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    await harness.abandon(call_id)
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "idle"
    assert sensor.attributes["active_calls"] == 0
    assert fired == ["incoming", "missed"]
    missed = state_of(hass, harness.event).attributes
    assert missed["call_id"] == call_id
    assert missed["remote_number"] == CALLER


@pytest.mark.parametrize("harness", REJECTING_PROVIDERS, indirect=True)
async def test_reject_ends_the_call(hass: HomeAssistant, harness: Harness) -> None:
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    response = await harness.act("reject_call")
    assert response == {"call_id": call_id, "state": "ringing"}
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    assert fired == ["incoming", "ended"]


@pytest.mark.parametrize("harness", NOT_REJECTING_PROVIDERS, indirect=True)
async def test_reject_is_refused_where_the_provider_has_none(
    hass: HomeAssistant, harness: Harness
) -> None:
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act("reject_call")
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == "action_not_supported"
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == call_id
    assert fired == ["incoming"]


async def test_two_calls_on_one_device(hass: HomeAssistant, harness: Harness) -> None:
    first = await harness.ring()
    second = await harness.ring(SECOND_CALLER, "Charles Babbage")
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "ringing"
    assert sensor.attributes["active_calls"] == 2

    response = await harness.act("answer_call", call_id=second)
    assert response["call_id"] == second
    await harness.settle()
    # The other call still rings, and a ringing call is what the sensor shows.
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == first
    assert sensor.attributes["active_calls"] == 2

    response = await harness.act("answer_call")
    assert response["call_id"] == first
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["active_calls"] == 2


def assert_nothing_to_answer_on(harness: Harness, err: ServiceValidationError) -> None:
    """`err` says that nothing rings on the harness's device, and names it."""
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "no_call_to_answer"
    assert err.translation_placeholders is not None
    assert err.translation_placeholders["device"] == harness.device_name
    assert harness.device_name in str(err)


async def test_nothing_to_answer_names_the_device(
    hass: HomeAssistant, harness: Harness
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act("answer_call")
    assert_nothing_to_answer_on(harness, raised.value)
    assert state_of(hass, harness.sensor).state == "idle"


async def test_buttons_with_nothing_to_act_on_name_the_device(
    hass: HomeAssistant, harness: Harness
) -> None:
    # A button is always pressable; with nothing to act on it names the device.
    for key, error in (
        ("answer", "no_call_to_answer"),
        ("hang_up", "no_call_to_hangup"),
    ):
        refused = await assert_press_refused(hass, harness.button_for(key), error)
        assert refused["device"] == harness.device_name
    assert state_of(hass, harness.sensor).state == "idle"


@pytest.mark.parametrize("harness", REJECTING_PROVIDERS, indirect=True)
async def test_decline_by_button(hass: HomeAssistant, harness: Harness) -> None:
    fired = record_events(hass, harness.event)
    await harness.ring()
    await press(hass, harness.button_for("decline"))
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    assert fired == ["incoming", "ended"]
    refused = await assert_press_refused(
        hass, harness.button_for("decline"), "no_call_to_reject"
    )
    assert refused["device"] == harness.device_name


@pytest.mark.parametrize("harness", NOT_REJECTING_PROVIDERS, indirect=True)
async def test_no_decline_button_where_the_provider_cannot_reject(
    hass: HomeAssistant, harness: Harness
) -> None:
    assert hass.states.get(harness.button_for("decline")) is None
    assert state_of(hass, harness.button_for("hang_up")).state != STATE_UNAVAILABLE


async def test_hang_up_by_button(hass: HomeAssistant, harness: Harness) -> None:
    fired = record_events(hass, harness.event)
    await harness.ring()
    await harness.press_answer()
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"
    await press(hass, harness.button_for("hang_up"))
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    assert fired == ["incoming", "answered", "ended"]

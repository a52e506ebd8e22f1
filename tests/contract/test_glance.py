"""The call at a glance: who calls, missed calls and the last call, per provider."""

from __future__ import annotations

from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID, STATE_UNKNOWN
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    mock_restore_cache_with_extra_data,
)

from custom_components.switchboard.const import DOMAIN
from tests.const import CALLER
from tests.helpers import device_of, state_of

from .harness import CALLER_NAME, SECOND_CALLER, Harness
from .providers import HARNESSES


async def test_caller_from_ring_to_end(hass: HomeAssistant, harness: Harness) -> None:
    assert state_of(hass, harness.caller).state == STATE_UNKNOWN
    call_id = await harness.ring()
    caller = state_of(hass, harness.caller)
    assert caller.state == harness.caller_shown()
    assert caller.attributes["call_id"] == call_id
    assert caller.attributes["direction"] == "incoming"
    assert caller.attributes["state"] == "ringing"
    assert caller.attributes["remote_number"] == CALLER
    assert caller.attributes["started_at"] is not None
    assert caller.attributes["answered_at"] is None

    await harness.act("answer_call")
    await harness.settle()
    caller = state_of(hass, harness.caller)
    assert caller.state == harness.caller_shown()
    assert caller.attributes["state"] == "talking"
    assert caller.attributes["answered_at"] is not None

    await harness.act("hangup_call")
    await harness.settle()
    assert state_of(hass, harness.caller).state == STATE_UNKNOWN
    last = state_of(hass, harness.last_call)
    assert last.state == harness.caller_shown()
    assert last.attributes["call_id"] == call_id
    assert last.attributes["direction"] == "incoming"
    assert last.attributes["outcome"] == "answered"
    assert isinstance(last.attributes["duration"], int)
    assert last.attributes["duration"] >= 0
    assert last.attributes["ended_at"] is not None
    assert state_of(hass, harness.missed_calls).state == "0"


async def test_the_caller_sensor_shows_the_call_that_rings_first(
    hass: HomeAssistant, harness: Harness
) -> None:
    await harness.ring()
    await harness.ring(SECOND_CALLER, "Charles Babbage")
    assert state_of(hass, harness.caller).state == harness.caller_shown()


async def test_a_missed_call_is_counted_and_remembered(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await harness.ring()
    await harness.abandon(call_id)
    await harness.settle()
    missed = state_of(hass, harness.missed_calls)
    assert missed.state == "1"
    assert missed.attributes["last_caller"] == harness.caller_shown()
    assert missed.attributes["last_missed_at"] is not None
    last = state_of(hass, harness.last_call)
    assert last.state == harness.caller_shown()
    assert last.attributes["outcome"] == "missed"
    assert last.attributes["duration"] is None

    # Home Assistant reloads the entry: the count and the last call stay.
    await harness.reload()
    assert state_of(hass, harness.missed_calls).state == "1"
    assert state_of(hass, harness.missed_calls).attributes == missed.attributes
    assert state_of(hass, harness.last_call).state == last.state
    assert state_of(hass, harness.last_call).attributes["outcome"] == "missed"

    second = await harness.ring(SECOND_CALLER, "Charles Babbage")
    await harness.abandon(second)
    await harness.settle()
    missed = state_of(hass, harness.missed_calls)
    assert missed.state == "2"
    assert missed.attributes["last_caller"] == harness.caller_shown(
        SECOND_CALLER, "Charles Babbage"
    )


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_reset_missed_calls_by_sensor_and_by_device(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await harness.ring()
    await harness.abandon(call_id)
    await harness.settle()
    assert state_of(hass, harness.missed_calls).state == "1"
    await hass.services.async_call(
        DOMAIN,
        "reset_missed_calls",
        {ATTR_ENTITY_ID: harness.missed_calls},
        blocking=True,
    )
    missed = state_of(hass, harness.missed_calls)
    assert missed.state == "0"
    assert missed.attributes["last_caller"] is None

    call_id = await harness.ring()
    await harness.abandon(call_id)
    await harness.settle()
    device_id = device_of(hass, harness.missed_calls)
    await hass.services.async_call(
        DOMAIN, "reset_missed_calls", {ATTR_DEVICE_ID: device_id}, blocking=True
    )
    assert state_of(hass, harness.missed_calls).state == "0"


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_an_action_on_something_not_switchboard_is_refused(
    hass: HomeAssistant, harness: Harness
) -> None:
    await harness.ring()
    hass.states.async_set("sensor.outdoor_temperature", "12")
    for action in ("answer_call", "reset_missed_calls"):
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(
                DOMAIN,
                action,
                {ATTR_ENTITY_ID: "sensor.outdoor_temperature"},
                blocking=True,
            )
        assert raised.value.translation_key == "no_switchboard_target"
        assert raised.value.translation_placeholders == {"action": f"{DOMAIN}.{action}"}
    assert state_of(hass, harness.sensor).state == "ringing"


@pytest.mark.parametrize("harness", ["telnyx", "genesys"], indirect=True)
async def test_a_device_target_answers_once(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await harness.ring()
    device_id = device_of(hass, harness.sensor)
    response = await hass.services.async_call(
        DOMAIN,
        "answer_call",
        {ATTR_DEVICE_ID: device_id},
        blocking=True,
        return_response=True,
    )
    # Four sensors belong to the device; the call sensor alone acted.
    assert response == {harness.sensor: {"call_id": call_id, "state": "ringing"}}
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_the_caller_sensor_stands_for_its_device(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await harness.ring()
    await hass.services.async_call(
        DOMAIN, "answer_call", {ATTR_ENTITY_ID: harness.caller}, blocking=True
    )
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"
    assert state_of(hass, harness.sensor).attributes["call_id"] == call_id


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_hang_up_takes_the_active_call_before_a_ringing_one(
    hass: HomeAssistant, harness: Harness
) -> None:
    talking = await harness.ring()
    await harness.act("answer_call")
    await harness.settle()
    ringing = await harness.ring(SECOND_CALLER, "Charles Babbage")
    response = await harness.act("hangup_call")
    assert response["call_id"] == talking
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == ringing


@pytest.fixture
def restored_counts(
    request: pytest.FixtureRequest, hass: HomeAssistant
) -> tuple[State, State]:
    """What Home Assistant stored before a restart, for the harness's device."""
    slug = HARNESSES[request.node.callspec.params["harness"]].device_slug
    missed = State(
        f"sensor.{slug}_missed_calls",
        "3",
        {
            "last_caller": f"{CALLER_NAME} ({CALLER})",
            "last_missed_at": "2026-12-01T08:00:00+00:00",
        },
    )
    last = State(
        f"sensor.{slug}_last_call",
        f"{CALLER_NAME} ({CALLER})",
        {"outcome": "answered", "duration": 42, "direction": "incoming"},
    )
    mock_restore_cache_with_extra_data(
        hass,
        (
            (missed, {"native_value": 3, "native_unit_of_measurement": None}),
            (last, {"native_value": last.state, "native_unit_of_measurement": None}),
        ),
    )
    return missed, last


@pytest.mark.parametrize("harness", ["telnyx", "genesys"], indirect=True)
async def test_counts_survive_a_restart(
    hass: HomeAssistant, restored_counts: tuple[State, State], harness: Harness
) -> None:
    missed, last = restored_counts
    shown = state_of(hass, harness.missed_calls)
    assert shown.state == "3"
    assert shown.attributes["last_caller"] == missed.attributes["last_caller"]
    assert shown.attributes["last_missed_at"] == missed.attributes["last_missed_at"]
    shown = state_of(hass, harness.last_call)
    assert shown.state == last.state
    assert shown.attributes["outcome"] == "answered"
    assert shown.attributes["duration"] == 42

    call_id = await harness.ring()
    await harness.abandon(call_id)
    await harness.settle()
    assert state_of(hass, harness.missed_calls).state == "4"


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_a_user_who_may_not_control_the_line_is_refused(
    hass: HomeAssistant, harness: Harness, hass_read_only_user: MockUser
) -> None:
    await harness.ring()
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "answer_call",
            {ATTR_ENTITY_ID: harness.sensor},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "ringing"

"""Answering, rejecting and hanging up, from actions and the button."""

from __future__ import annotations

from functools import partial
from typing import Any

from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import DOMAIN
from tests import helpers
from tests.const import CALLER, FRONT_DESK
from tests.helpers import (
    BUTTON,
    EVENT,
    KITCHEN_SENSOR,
    SENSOR,
    assert_press_refused,
    record_events,
    ring,
    settle,
)
from tests.simulators.telnyx import TelnyxSimulator

pytestmark = pytest.mark.usefixtures("setup_telnyx", "fast_retries")


call_action = partial(helpers.call_action, entity_id=SENSOR)


async def test_answer_by_action_then_caller_hangs_up(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "ringing"
    assert state.attributes["remote_number"] == CALLER
    assert state.attributes["remote_name"] == "Ada Lovelace"
    assert state.attributes["local_number"] == FRONT_DESK
    assert state.attributes["call_id"] == call_id
    assert state.attributes["active_calls"] == 1
    assert hass.states.get(KITCHEN_SENSOR).state == "idle"  # type: ignore[union-attr]
    assert hass.states.get(BUTTON).state != STATE_UNAVAILABLE  # type: ignore[union-attr]

    response = await call_action(
        hass, "answer_call", options={"client_state": "ZnJvbnQtZGVzaw=="}
    )
    assert response == {SENSOR: {"call_id": call_id, "state": "ringing"}}
    answer = telnyx.calls[call_id].commands[-1]
    assert answer["action"] == "answer"
    assert answer["client_state"] == "ZnJvbnQtZGVzaw=="
    assert answer["command_id"]
    await settle(hass, telnyx)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "talking"
    assert state.attributes["answered_at"] is not None
    await assert_press_refused(hass, BUTTON, "no_call_to_answer")

    await telnyx.remote_hangup(call_id)
    await settle(hass, telnyx)
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert fired == ["incoming", "answered", "ended"]
    event = hass.states.get(EVENT)
    assert event is not None
    assert event.attributes["call_id"] == call_id
    assert event.attributes["remote_number"] == CALLER


async def test_answer_by_button_then_hang_up(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
    )
    await settle(hass, telnyx)
    assert telnyx.calls[call_id].state == "answered"
    assert hass.states.get(SENSOR).state == "talking"  # type: ignore[union-attr]

    response = await call_action(hass, "hangup_call")
    assert response == {SENSOR: {"call_id": call_id, "state": "talking"}}
    await settle(hass, telnyx)
    assert telnyx.calls[call_id].state == "hangup"
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert fired == ["incoming", "answered", "ended"]


async def test_reject_is_ended_not_missed(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    await call_action(hass, "reject_call", options={"cause": "USER_BUSY"})
    await settle(hass, telnyx)
    assert telnyx.calls[call_id].hangup_cause == "user_busy"
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert fired == ["incoming", "ended"]


@pytest.mark.parametrize("cause", ["originator_cancel", "timeout"])
async def test_unanswered_ring_is_missed(
    hass: HomeAssistant, telnyx: TelnyxSimulator, cause: str
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    await telnyx.remote_hangup(call_id, cause=cause)
    await settle(hass, telnyx)
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert fired == ["incoming", "missed"]


async def test_two_calls_on_one_device(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    first = await ring(hass, telnyx)
    second = await ring(hass, telnyx)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes["active_calls"] == 2
    await call_action(hass, "answer_call", call_id=second)
    await settle(hass, telnyx)
    assert telnyx.calls[second].state == "answered"
    assert telnyx.calls[first].state == "parked"
    # The first call still rings, and a ringing call is what the sensor shows.
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "ringing"
    assert state.attributes["call_id"] == first
    await call_action(hass, "answer_call")
    await settle(hass, telnyx)
    assert telnyx.calls[first].state == "answered"
    await call_action(hass, "hangup_call", call_id=second)
    await settle(hass, telnyx)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "talking"
    assert state.attributes["call_id"] == first
    assert state.attributes["active_calls"] == 1


@pytest.mark.parametrize(
    ("action", "data", "key", "message"),
    [
        ("answer_call", {}, "no_call_to_answer", "No call is ringing on +15550100001"),
        ("reject_call", {}, "no_call_to_reject", "No call is ringing on +15550100001"),
        (
            "hangup_call",
            {},
            "no_call_to_hangup",
            "There is no call on +15550100001 to hang up",
        ),
        (
            "answer_call",
            {"call_id": "v3:nope"},
            "call_not_found",
            "There is no live call v3:nope on +15550100001",
        ),
    ],
)
async def test_no_call_to_act_on(
    hass: HomeAssistant, action: str, data: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, action, **data)
    assert raised.value.translation_key == key
    assert str(raised.value) == message


async def test_action_the_call_does_not_allow(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    call_id = await ring(hass, telnyx)
    await call_action(hass, "answer_call")
    await settle(hass, telnyx)
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, "reject_call", call_id=call_id)
    assert raised.value.translation_key == "action_not_allowed"
    assert (
        str(raised.value) == "A call that is talking cannot be given the reject action"
    )
    assert hass.states.get(SENSOR).state == "talking"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"client_state": "not base64!"}, "client_state"),
        ({"record": "always"}, "record"),
        ({"accepted_modalities": ["audio"]}, "accepted_modalities"),
    ],
)
async def test_invalid_options_change_nothing(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    options: dict[str, Any],
    field: str,
) -> None:
    call_id = await ring(hass, telnyx)
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, "answer_call", options=options)
    assert raised.value.translation_key == "invalid_option"
    assert str(raised.value).startswith(f"The option {field} is not valid")
    assert telnyx.calls[call_id].commands == []
    assert hass.states.get(SENSOR).state == "ringing"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "code", "times", "key"),
    [
        (403, None, 1, "permission_denied"),
        (404, None, 1, "call_gone"),
        (422, "90018", 1, "call_ended"),
        (422, "90034", 1, "refused_now"),
        (429, None, 3, "rate_limited"),
        (500, None, 3, "cannot_connect"),
        (503, None, 3, "cannot_connect"),
    ],
)
async def test_provider_faults_are_translated_and_change_nothing(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    status: int,
    code: str | None,
    times: int,
    key: str,
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    telnyx.fail_next(status, code=code, times=times, path_contains="/actions/")
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == key
    assert raised.value.translation_domain == DOMAIN
    await settle(hass, telnyx)
    assert telnyx.calls[call_id].state == "parked"
    assert hass.states.get(SENSOR).state == "ringing"  # type: ignore[union-attr]
    assert hass.states.get(BUTTON).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert fired == ["incoming"]


async def test_long_rate_limit_fails_at_once(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    await ring(hass, telnyx)
    telnyx.fail_next(429, retry_after=60, path_contains="/actions/")
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "rate_limited"
    assert len([r for r in telnyx.requests if "/actions/" in r.path]) == 1


async def test_short_rate_limit_and_outage_are_retried(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    call_id = await ring(hass, telnyx)
    telnyx.fail_next(429, retry_after=0.05, path_contains="/actions/")
    telnyx.fail_next(503, path_contains="/actions/")
    await call_action(hass, "answer_call")
    await settle(hass, telnyx)
    assert telnyx.calls[call_id].state == "answered"
    assert hass.states.get(SENSOR).state == "talking"  # type: ignore[union-attr]


@pytest.mark.usefixtures("short_request_timeout")
async def test_retry_after_a_timeout_is_not_a_second_command(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    call_id = await ring(hass, telnyx)
    # The answer is carried out, but its reply comes too late: the retry repeats
    # the command_id, and Telnyx ignores it.
    telnyx.slow_next(0.5, path_contains="/actions/")
    await call_action(hass, "answer_call")
    await settle(hass, telnyx)
    answers = [r for r in telnyx.requests if r.path.endswith("/actions/answer")]
    assert len(answers) == 2
    assert answers[0].body["command_id"] == answers[1].body["command_id"]
    assert [c["action"] for c in telnyx.calls[call_id].commands] == ["answer"]
    assert hass.states.get(SENSOR).state == "talking"  # type: ignore[union-attr]


async def test_call_that_really_ended_is_ended_here(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    fired = record_events(hass, EVENT)
    await telnyx.ring(FRONT_DESK, CALLER)
    await settle(hass, telnyx)
    call_id = next(iter(telnyx.calls))
    # The caller gives up, but that webhook never reaches Home Assistant.
    telnyx.hold_webhooks()
    await telnyx.remote_hangup(call_id, cause="originator_cancel")
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "call_ended"
    await hass.async_block_till_done()
    assert hass.states.get(SENSOR).state == "idle"  # type: ignore[union-attr]
    assert fired == ["incoming", "missed"]


async def test_revoked_key_starts_reauth(
    hass: HomeAssistant, telnyx: TelnyxSimulator, setup_telnyx: MockConfigEntry
) -> None:
    call_id = await ring(hass, telnyx)
    telnyx.fail_next(401, path_contains="/actions/")
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, "answer_call")
    assert raised.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == setup_telnyx.entry_id
    assert telnyx.calls[call_id].state == "parked"


async def test_a_gate_prompt_collects_the_key_once(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    fired = record_events(hass, EVENT)
    call_id = await ring(hass, telnyx)
    await call_action(hass, "answer_call")
    await settle(hass, telnyx)

    response = await call_action(
        hass,
        "speak",
        message="Press 1 to open the gate.",
        language="en-US",
        voice="female",
        options={"maximum_digits": 1, "valid_digits": "1"},
    )
    assert response == {SENSOR: {"call_id": call_id, "state": "talking"}}
    # Gather options make the speak a gather_using_speak.
    gather = telnyx.calls[call_id].commands[-1]
    assert gather["action"] == "gather_using_speak"
    assert gather["payload"] == "Press 1 to open the gate."
    assert gather["language"] == "en-US"
    assert gather["voice"] == "female"
    assert gather["maximum_digits"] == 1
    assert gather["valid_digits"] == "1"
    await settle(hass, telnyx)

    # The key comes once: in the gather's end, not also as a key of its own.
    await telnyx.press(call_id, "1")
    await settle(hass, telnyx)
    assert fired == ["incoming", "answered", "digits"]
    event = hass.states.get(EVENT)
    assert event is not None
    assert event.attributes["digits"] == "1"
    assert event.attributes["call_id"] == call_id
    assert hass.states.get(SENSOR).state == "talking"  # type: ignore[union-attr]

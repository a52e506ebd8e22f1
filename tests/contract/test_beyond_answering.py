"""Beyond answering: transfer, hold, resume, dial, speak, play and digits.

Each provider's harness says what it can do (`capabilities`); every test runs
for the providers it applies to, against their simulators over real HTTP, and
checks the command the simulator received and what Home Assistant shows next.
An action a provider lacks is refused before any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNKNOWN
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from custom_components.switchboard.const import DOMAIN, EVENT_CALL_ACTIVITY
from custom_components.switchboard.providers.model import CallAction
from tests.const import CALLER
from tests.helpers import state_of

from .harness import Capability, Command, Harness
from .providers import PROVIDERS, capable, per_capability

AUDIO: Final = "https://media.example.com/closed.wav"
# Each action beyond answering, and the capability a provider needs for it.
ACTIONS: Final = {
    "transfer_call": Capability.TRANSFER,
    "hold_call": Capability.HOLD,
    "resume_call": Capability.HOLD,
    "dial": Capability.DIAL,
    "speak": Capability.SPEAK,
    "play": Capability.PLAY,
    "send_digits": Capability.SEND_DIGITS,
}
# The actions on a call in progress that leave it talking, with their fields
# and what the provider's command carries of them.
MEDIA: Final[dict[str, tuple[CallAction, dict[str, Any], str]]] = {
    "speak": (CallAction.SPEAK, {"message": "We are closed."}, "We are closed."),
    "play": (CallAction.PLAY, {"url": AUDIO}, AUDIO),
    "send_digits": (CallAction.SEND_DIGITS, {"digits": "123#"}, "123#"),
}
MEDIA_CAPABILITIES: Final = {name: ACTIONS[name] for name in MEDIA}
# The actions on a call (not dial), each with the call action it is.
CALL_ACTIONS: Final = {
    "transfer_call": CallAction.TRANSFER,
    "hold_call": CallAction.HOLD,
    "resume_call": CallAction.RESUME,
    "speak": CallAction.SPEAK,
    "play": CallAction.PLAY,
    "send_digits": CallAction.SEND_DIGITS,
}
# An action's required field, and a value no provider takes for it.
REQUIRED: Final = {
    "transfer_call": ("to", ""),
    "dial": ("to", ""),
    "speak": ("message", ""),
    "play": ("url", "ftp://media.example.com/closed.wav"),
    "send_digits": ("digits", "12x"),
}
REQUIRED_CAPABILITIES: Final = {name: ACTIONS[name] for name in REQUIRED}


@dataclass(frozen=True)
class Fired:
    """One event of the call activity entity."""

    event_type: str
    call_id: str | None
    digits: str | None = None


def record_activity(hass: HomeAssistant, harness: Harness) -> list[Fired]:
    """Collect what the device's call activity entity fires from now on."""
    fired: list[Fired] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and state.attributes.get("event_type"):
            attributes = state.attributes
            fired.append(
                Fired(
                    attributes["event_type"],
                    attributes.get("call_id"),
                    attributes.get("digits"),
                )
            )

    async_track_state_change_event(hass, harness.event, _changed)
    return fired


async def talking(hass: HomeAssistant, harness: Harness) -> str:
    """Ring the device, answer, and return the call once it talks."""
    call_id = await harness.ring()
    await harness.act("answer_call")
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id
    return call_id


def assert_refused(
    raised: pytest.ExceptionInfo[ServiceValidationError], key: str
) -> dict[str, str]:
    """The action was refused as bad input with `key`; return its placeholders."""
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == key
    return raised.value.translation_placeholders or {}


# --- transfer ---


@pytest.mark.parametrize("harness", capable(Capability.TRANSFER), indirect=True)
async def test_transfer_sends_the_call_on(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await talking(hass, harness)
    fired = record_activity(hass, harness)

    response = await harness.act("transfer_call", to=harness.transfer_to)
    assert response == {"call_id": call_id, "state": "talking"}
    assert harness.sent(CallAction.TRANSFER) == [
        Command(CallAction.TRANSFER, call_id, harness.transfer_to)
    ]
    await harness.complete_transfer(call_id)

    # The call goes on, but no longer on this device.
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "idle"
    assert sensor.attributes["active_calls"] == 0
    assert Fired("ended", call_id) in fired
    assert "missed" not in [event.event_type for event in fired]
    assert state_of(hass, harness.last_call).attributes["outcome"] == "transferred"
    assert state_of(hass, harness.missed_calls).state == "0"


@pytest.mark.parametrize("harness", ["webex"], indirect=True)
async def test_a_ringing_call_sent_on_is_not_missed(
    hass: HomeAssistant, harness: Harness
) -> None:
    # Webex diverts a ringing call: it leaves at once, and nobody missed it.
    call_id = await harness.ring()
    fired = record_activity(hass, harness)
    response = await harness.act("transfer_call", to=harness.transfer_to)
    assert response == {"call_id": call_id, "state": "ringing"}
    assert harness.sent(CallAction.TRANSFER) == [
        Command(CallAction.TRANSFER, call_id, harness.transfer_to)
    ]
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    assert fired == [Fired("ended", call_id)]
    assert state_of(hass, harness.missed_calls).state == "0"
    assert state_of(hass, harness.last_call).attributes["outcome"] == "transferred"


@pytest.mark.parametrize("harness", capable(Capability.VOICEMAIL), indirect=True)
async def test_transfer_to_voicemail(hass: HomeAssistant, harness: Harness) -> None:
    call_id = await talking(hass, harness)
    fired = record_activity(hass, harness)

    response = await harness.act("transfer_call", voicemail=True)
    assert response == {"call_id": call_id, "state": "talking"}
    assert harness.sent(CallAction.TRANSFER) == [
        Command(CallAction.TRANSFER, call_id, None, voicemail=True)
    ]
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    assert fired == [Fired("ended", call_id)]
    assert state_of(hass, harness.last_call).attributes["outcome"] == "transferred"


@pytest.mark.parametrize(
    "harness",
    [
        key
        for key in capable(Capability.TRANSFER)
        if key not in capable(Capability.VOICEMAIL)
    ],
    indirect=True,
)
async def test_voicemail_is_refused_where_the_provider_has_none(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await talking(hass, harness)
    sent = len(harness.commands())
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act("transfer_call", to=harness.transfer_to, voicemail=True)
    assert assert_refused(raised, "invalid_option")["option"] == "voicemail"
    assert len(harness.commands()) == sent
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id


async def test_a_field_given_twice_is_refused(
    hass: HomeAssistant, harness: Harness
) -> None:
    await talking(hass, harness)
    sent = len(harness.commands())
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act(
            "transfer_call",
            to=harness.transfer_to,
            options={"to": harness.transfer_to},
        )
    placeholders = assert_refused(raised, "option_given_twice")
    assert "both as a field and inside options" in str(raised.value)
    assert placeholders["option"] == "to"
    assert placeholders["action"] == "switchboard.transfer_call"
    assert len(harness.commands()) == sent
    assert state_of(hass, harness.sensor).state == "talking"


@pytest.mark.parametrize("harness", capable(Capability.TRANSFER), indirect=True)
async def test_an_outage_during_a_transfer_is_not_retried(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await talking(hass, harness)
    harness.refuse_next(CallAction.TRANSFER, 503)
    with pytest.raises(HomeAssistantError) as raised:
        await harness.act("transfer_call", to=harness.transfer_to)
    assert not isinstance(raised.value, ServiceValidationError)
    assert raised.value.translation_key == "cannot_connect"
    # It may have gone through: a second transfer is not risked.
    assert len(harness.sent(CallAction.TRANSFER)) == 1
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id


@pytest.mark.parametrize("harness", capable(Capability.TRANSFER), indirect=True)
async def test_a_rate_limited_transfer_is_retried(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await talking(hass, harness)
    harness.refuse_next(CallAction.TRANSFER, 429, retry_after=0.01)
    response = await harness.act("transfer_call", to=harness.transfer_to)
    assert response["call_id"] == call_id
    # Refused, so not performed: the second try is the only transfer.
    assert len(harness.sent(CallAction.TRANSFER)) == 2
    await harness.complete_transfer(call_id)
    assert state_of(hass, harness.sensor).state == "idle"


# --- hold and resume ---


@pytest.mark.parametrize("harness", capable(Capability.HOLD), indirect=True)
async def test_hold_and_resume(hass: HomeAssistant, harness: Harness) -> None:
    call_id = await talking(hass, harness)
    fired = record_activity(hass, harness)

    response = await harness.act("hold_call")
    assert response == {"call_id": call_id, "state": "talking"}
    assert harness.sent(CallAction.HOLD) == [Command(CallAction.HOLD, call_id)]
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "on_hold"
    assert sensor.attributes["call_id"] == call_id

    # Without a call id, resume takes the call on hold.
    response = await harness.act("resume_call")
    assert response == {"call_id": call_id, "state": "on_hold"}
    assert harness.sent(CallAction.RESUME) == [Command(CallAction.RESUME, call_id)]
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"
    # Neither is an event of the call: it neither began nor ended.
    assert fired == []


@pytest.mark.parametrize("harness", capable(Capability.HOLD), indirect=True)
async def test_resume_needs_a_call_on_hold(
    hass: HomeAssistant, harness: Harness
) -> None:
    await talking(hass, harness)
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act("resume_call")
    assert assert_refused(raised, "no_call_to_resume")["device"] == harness.device_name
    assert harness.sent(CallAction.RESUME) == []


@pytest.mark.parametrize("harness", capable(Capability.HOLD), indirect=True)
async def test_an_outage_during_hold_is_retried(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await talking(hass, harness)
    harness.refuse_next(CallAction.HOLD, 503, count=2)
    response = await harness.act("hold_call")
    assert response["call_id"] == call_id
    # Holding twice does no harm: the outage is retried.
    assert len(harness.sent(CallAction.HOLD)) == 3
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "on_hold"


# --- dial ---


@pytest.mark.parametrize("harness", capable(Capability.DIAL), indirect=True)
async def test_dial_places_a_call(hass: HomeAssistant, harness: Harness) -> None:
    fired = record_activity(hass, harness)
    response = await harness.act(
        "dial", to=harness.dial_to, options=dict(harness.dial_options)
    )
    call_id = response["call_id"]
    assert response == {"call_id": call_id, "state": "dialing"}
    assert harness.sent(CallAction.DIAL) == [
        Command(CallAction.DIAL, None, harness.dial_to)
    ]
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "dialing"
    assert sensor.attributes["call_id"] == call_id
    assert sensor.attributes["direction"] == "outgoing"
    assert sensor.attributes["active_calls"] == 1

    await harness.pickup(call_id)
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id
    assert fired == [Fired("answered", call_id)]

    await harness.act("hangup_call")
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    last = state_of(hass, harness.last_call).attributes
    assert last["call_id"] == call_id
    assert last["direction"] == "outgoing"
    assert last["outcome"] == "answered"
    assert fired == [Fired("answered", call_id), Fired("ended", call_id)]


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_dial_places_one_call_from_one_device(
    hass: HomeAssistant, harness: Harness
) -> None:
    # The application has two numbers: a dial from both would call twice.
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "dial",
            {
                ATTR_ENTITY_ID: [harness.sensor, "sensor.15550100002_call"],
                "to": harness.dial_to,
            },
            blocking=True,
            return_response=True,
        )
    assert assert_refused(raised, "dial_one_device")["count"] == "2"
    assert harness.sent(CallAction.DIAL) == []


# --- speak, play, send digits ---


@pytest.mark.parametrize(
    ("harness", "action"), per_capability(MEDIA_CAPABILITIES), indirect=["harness"]
)
async def test_media_on_a_talking_call(
    hass: HomeAssistant, harness: Harness, action: str
) -> None:
    call_action, fields, argument = MEDIA[action]
    call_id = await talking(hass, harness)
    fired = record_activity(hass, harness)

    response = await harness.act(action, **fields)
    assert response == {"call_id": call_id, "state": "talking"}
    assert harness.sent(call_action) == [Command(call_action, call_id, argument)]
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id
    assert fired == []


@pytest.mark.parametrize("harness", capable(Capability.SEND_DIGITS), indirect=True)
async def test_an_outage_while_sending_digits_is_not_retried(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await talking(hass, harness)
    harness.refuse_next(CallAction.SEND_DIGITS, 503)
    with pytest.raises(HomeAssistantError) as raised:
        await harness.act("send_digits", digits="1")
    assert not isinstance(raised.value, ServiceValidationError)
    assert raised.value.translation_key == "cannot_connect"
    # Keys sent twice would dial twice; and no state shows they went out.
    assert len(harness.sent(CallAction.SEND_DIGITS)) == 1
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id


@pytest.mark.parametrize("harness", capable(Capability.DIAL), indirect=True)
async def test_an_outage_during_a_dial_is_not_retried(
    hass: HomeAssistant, harness: Harness
) -> None:
    fired = record_activity(hass, harness)
    harness.refuse_next(CallAction.DIAL, 503)
    with pytest.raises(HomeAssistantError) as raised:
        await harness.act(
            "dial", to=harness.dial_to, options=dict(harness.dial_options)
        )
    assert not isinstance(raised.value, ServiceValidationError)
    assert raised.value.translation_key == "cannot_connect"
    # A second call is not risked.
    assert len(harness.sent(CallAction.DIAL)) == 1
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    assert fired == []


# --- refusals ---


@pytest.mark.parametrize(
    ("harness", "action"),
    per_capability(ACTIONS, supported=False),
    indirect=["harness"],
)
async def test_an_action_the_provider_lacks_is_refused(
    hass: HomeAssistant, harness: Harness, action: str
) -> None:
    call_id = await talking(hass, harness)
    sent = len(harness.commands())
    fields = MEDIA[action][1] if action in MEDIA else {}
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act(action, **fields)
    placeholders = assert_refused(raised, "action_not_supported")
    assert str(raised.value).startswith(
        f"{harness.entry.runtime_data.provider_name} has no "
    )
    assert placeholders["action"] == str(CALL_ACTIONS.get(action, CallAction.DIAL))
    assert len(harness.commands()) == sent
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "talking"
    assert sensor.attributes["call_id"] == call_id


@pytest.mark.parametrize(
    ("harness", "action"), per_capability(REQUIRED_CAPABILITIES), indirect=["harness"]
)
async def test_a_missing_field_is_refused(
    hass: HomeAssistant, harness: Harness, action: str
) -> None:
    field, _ = REQUIRED[action]
    await talking(hass, harness)
    sent = len(harness.commands())
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act(action)
    placeholders = assert_refused(raised, "missing_option")
    assert placeholders["option"] == field
    assert f"is missing {field}, which is required" in str(raised.value)
    assert len(harness.commands()) == sent
    assert state_of(hass, harness.sensor).state == "talking"


@pytest.mark.parametrize(
    ("harness", "action"), per_capability(REQUIRED_CAPABILITIES), indirect=["harness"]
)
async def test_a_bad_field_is_refused(
    hass: HomeAssistant, harness: Harness, action: str
) -> None:
    field, bad = REQUIRED[action]
    await talking(hass, harness)
    sent = len(harness.commands())
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act(action, **{field: bad})
    placeholders = assert_refused(raised, "invalid_option")
    assert placeholders["option"] == field
    assert placeholders["reason"]
    assert len(harness.commands()) == sent
    assert state_of(hass, harness.sensor).state == "talking"


@pytest.mark.parametrize(
    ("harness", "action"),
    per_capability({name: ACTIONS[name] for name in CALL_ACTIONS}),
    indirect=["harness"],
)
async def test_nothing_to_act_on_names_the_device(
    hass: HomeAssistant, harness: Harness, action: str
) -> None:
    fields = MEDIA[action][1] if action in MEDIA else {}
    if action == "transfer_call":
        fields = {"to": harness.transfer_to}
    with pytest.raises(ServiceValidationError) as raised:
        await harness.act(action, **fields)
    placeholders = assert_refused(raised, f"no_call_to_{CALL_ACTIONS[action]}")
    assert placeholders["device"] == harness.device_name
    assert harness.device_name in str(raised.value)
    assert harness.commands() == []


# --- digits the caller presses ---


@pytest.mark.parametrize("harness", capable(Capability.DIGITS), indirect=True)
async def test_keys_pressed_fire_a_digits_event(
    hass: HomeAssistant, harness: Harness
) -> None:
    call_id = await talking(hass, harness)
    fired = record_activity(hass, harness)
    activity: list[dict[str, Any]] = []
    hass.bus.async_listen(
        EVENT_CALL_ACTIVITY, lambda event: activity.append(dict(event.data))
    )
    sensor_before = state_of(hass, harness.sensor)
    caller_before = state_of(hass, harness.caller)

    await harness.press(call_id, "1")
    await harness.settle()

    assert fired == [Fired("digits", call_id, "1")]
    event = state_of(hass, harness.event).attributes
    assert event["remote_number"] == CALLER
    assert event["direction"] == "incoming"
    assert [
        (data["event_type"], data["digits"], data["call_id"], data["caller"])
        for data in activity
    ] == [("digits", "1", call_id, harness.caller_shown())]
    # Keys are news, not a change: no sensor writes, nothing counted.
    assert state_of(hass, harness.sensor).last_updated == sensor_before.last_updated
    assert state_of(hass, harness.caller).state == caller_before.state
    assert state_of(hass, harness.missed_calls).state == "0"
    assert state_of(hass, harness.last_call).state == STATE_UNKNOWN

    await harness.press(call_id, "2#")
    await harness.settle()
    assert [event.digits for event in fired] == ["1", "2", "#"]
    await harness.act("hangup_call")
    await harness.settle()
    assert fired[-1] == Fired("ended", call_id)
    assert state_of(hass, harness.last_call).attributes["outcome"] == "answered"


@pytest.mark.parametrize("harness", PROVIDERS, indirect=True)
async def test_digits_is_an_event_type_where_the_provider_reports_keys(
    hass: HomeAssistant, harness: Harness
) -> None:
    event_types = state_of(hass, harness.event).attributes["event_types"]
    assert event_types[:4] == ["incoming", "answered", "ended", "missed"]
    assert ("digits" in event_types) is (Capability.DIGITS in harness.capabilities)


# What each capability asks of the provider's client.
NEEDS: Final = {
    Capability.TRANSFER: {CallAction.TRANSFER},
    Capability.HOLD: {CallAction.HOLD, CallAction.RESUME},
    Capability.DIAL: {CallAction.DIAL},
    Capability.SPEAK: {CallAction.SPEAK},
    Capability.PLAY: {CallAction.PLAY},
    Capability.SEND_DIGITS: {CallAction.SEND_DIGITS},
}


async def test_the_harness_says_what_the_provider_does(
    hass: HomeAssistant, harness: Harness
) -> None:
    # The suite tests each provider for what its client says it does.
    provider = harness.entry.runtime_data.provider
    for capability, actions in NEEDS.items():
        assert (capability in harness.capabilities) is (
            actions <= provider.supported_actions
        ), capability
    assert (Capability.DIGITS in harness.capabilities) is provider.reports_digits

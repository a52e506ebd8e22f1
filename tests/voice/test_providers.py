"""Voice on every provider: answer, hang up, decline, and what a failure says."""

from __future__ import annotations

from http import HTTPStatus

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    intent,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.switchboard.providers.model import CallAction
from tests.const import CALLER
from tests.contract.harness import CALLER_NAME, Capability, Command, Fault, Harness
from tests.contract.providers import (
    FAULT_CASES,
    NOT_REJECTING_PROVIDERS,
    REJECTING_PROVIDERS,
    capable,
)
from tests.contract.providers.webex import WebexHarness
from tests.fixtures.webex import WEBEX_APP
from tests.helpers import device_of, record_events, state_of

from .helpers import TELNYX, caller_said, commands, converse, say

# What a reply says for each error a refused answer raises.
REASONS = {
    "invalid_auth": "{provider} no longer accepts the sign-in. Sign in again from"
    " the integration page.",
    "permission_denied": "The {provider} account lacks the permission for that.",
    "call_gone": "The call has already ended.",
    "call_ended": "The call has already ended.",
    "rate_limited": "{provider} is limiting requests. Try again in a moment.",
    "cannot_connect": "{provider} cannot be reached right now.",
}


def provider_name(harness: Harness) -> str:
    """What users call the harness's provider."""
    name: str = harness.entry.runtime_data.provider_name
    return name


async def test_answer_and_hang_up(hass: HomeAssistant, voice: Harness) -> None:
    fired = record_events(hass, voice.event)
    call_id = await voice.ring()
    caller = caller_said(voice)
    assert await say(hass, "answer the call") == (
        f"Answered {caller} on {voice.device_name}."
    )
    assert commands(voice, call_id) == ["answer"]
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "talking"
    assert await say(hass, "hang up") == (
        f"Ended the call with {caller} on {voice.device_name}."
    )
    assert commands(voice, call_id) == ["answer", "hangup"]
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "idle"
    assert fired == ["incoming", "answered", "ended"]


async def test_answer_on_the_phone_named(hass: HomeAssistant, voice: Harness) -> None:
    call_id = await voice.ring()
    assert await say(hass, f"answer the call on the {voice.device_name}") == (
        f"Answered {caller_said(voice)} on {voice.device_name}."
    )
    assert commands(voice, call_id) == ["answer"]
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "talking"


@pytest.mark.parametrize("harness", REJECTING_PROVIDERS, indirect=True)
async def test_decline(hass: HomeAssistant, voice: Harness) -> None:
    call_id = await voice.ring()
    assert await say(hass, "decline the call") == (
        f"Declined the call from {caller_said(voice)} on {voice.device_name}."
    )
    assert commands(voice, call_id) == ["reject"]
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "idle"


@pytest.mark.parametrize("harness", NOT_REJECTING_PROVIDERS, indirect=True)
async def test_decline_where_the_provider_cannot(
    hass: HomeAssistant, voice: Harness
) -> None:
    call_id = await voice.ring()
    provider = provider_name(voice)
    assert await say(hass, "decline the call") == (
        f"Could not decline the call from {caller_said(voice)} on"
        f" {voice.device_name}. {provider} cannot decline calls. Say"
        ' "hang up" to end a ringing call there.'
    )
    assert await say(hass, "lehne den Anruf ab", "de") == (
        f"Der Anruf von {caller_said(voice)} auf {voice.device_name} konnte nicht"
        f" abgelehnt werden. {provider} kann Anrufe nicht ablehnen. Sag „Leg auf“,"
        " um einen klingelnden Anruf dort zu beenden."
    )
    assert commands(voice, call_id) == []
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "ringing"
    # Hanging up is what ends a ringing call there.
    await say(hass, "hang up")
    assert commands(voice, call_id) == ["hangup"]
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "idle"


@pytest.mark.parametrize(("harness", "fault"), FAULT_CASES, indirect=["harness"])
async def test_a_refused_answer_says_what_failed(
    hass: HomeAssistant, voice: Harness, fault: Fault
) -> None:
    fired = record_events(hass, voice.event)
    call_id = await voice.ring()
    key = voice.fail_next_answer(fault)
    result = await converse(hass, "answer the call")
    reason = REASONS[key].format(provider=provider_name(voice))
    assert result.response.speech["plain"]["speech"] == (
        f"Could not answer {caller_said(voice)} on {voice.device_name}. {reason}"
    )
    assert "answer" in commands(voice, call_id)
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "ringing"
    assert fired == ["incoming"]


@TELNYX
async def test_a_failure_is_said_in_the_users_language(
    hass: HomeAssistant, voice: Harness
) -> None:
    caller = caller_said(voice)
    expected = {
        "en": f"Could not answer {caller} on {voice.device_name}. Telnyx cannot be"
        " reached right now.",
        "de": f"Der Anruf von {caller} auf {voice.device_name} konnte nicht"
        " angenommen werden. Telnyx ist gerade nicht erreichbar.",
        "fr": f"Impossible de prendre l'appel sur {voice.device_name} ({caller})."
        " Telnyx est injoignable pour le moment.",
        "es": f"No se pudo contestar la llamada de {caller} en {voice.device_name}."
        " No se puede contactar con Telnyx en este momento.",
        "nl": f"Kon de oproep van {caller} op {voice.device_name} niet aannemen."
        " Telnyx is nu niet bereikbaar.",
    }
    await voice.ring()
    for language, reply in expected.items():
        voice.fail_next_answer(Fault.UNAVAILABLE)
        # The same English sentence each time: the reply follows the user.
        assert await say(hass, "answer the call", language) == reply
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "ringing"


@TELNYX
async def test_conversation_process_api(
    hass: HomeAssistant, voice: Harness, hass_client: ClientSessionGenerator
) -> None:
    call_id = await voice.ring()
    client = await hass_client()
    response = await client.post(
        "/api/conversation/process", json={"text": "Answer the call", "language": "en"}
    )
    assert response.status == HTTPStatus.OK
    body = await response.json()
    assert body["response"]["speech"]["plain"]["speech"] == (
        f"Answered {caller_said(voice)} on {voice.device_name}."
    )
    assert (
        body["response"]["response_type"] == intent.IntentResponseType.ACTION_DONE.value
    )
    assert commands(voice, call_id) == ["answer"]
    await voice.settle()
    assert state_of(hass, voice.sensor).state == "talking"


async def test_who_is_calling(hass: HomeAssistant, voice: Harness) -> None:
    assert await say(hass, "who is calling?") == "Nothing is ringing."
    await voice.ring()
    caller = f"{CALLER_NAME} ({CALLER})" if voice.remote_name(CALLER_NAME) else CALLER
    assert await say(hass, "who is calling?") == (
        f"{caller} is calling on {voice.device_name}."
    )


@pytest.mark.parametrize("harness", ["webex"], indirect=True)
@pytest.mark.parametrize("by", ["satellite", "device"])
async def test_a_call_on_several_phones_is_answered_where_the_user_speaks(
    hass: HomeAssistant, voice: Harness, by: str
) -> None:
    """A Webex call alerts the desk phone and the app: answer on the one nearby."""
    office = ar.async_get(hass).async_create("Office")
    app_sensor = "sensor.webex_desktop_application_call"
    dr.async_get(hass).async_update_device(
        device_of(hass, app_sensor), area_id=office.id
    )
    there: dict[str, str] = {}
    if by == "satellite":
        satellite = er.async_get(hass).async_get_or_create(
            "assist_satellite", "test", "office"
        )
        er.async_get(hass).async_update_entity(satellite.entity_id, area_id=office.id)
        there["satellite_id"] = satellite.entity_id
    else:
        other = MockConfigEntry(domain="test")
        other.add_to_hass(hass)
        speaker = dr.async_get(hass).async_get_or_create(
            config_entry_id=other.entry_id, identifiers={("test", "speaker")}
        )
        dr.async_get(hass).async_update_device(speaker.id, area_id=office.id)
        there["device_id"] = speaker.id
    call_id = await voice.ring()
    result = await converse(hass, "answer the call", **there)
    assert result.response.speech["plain"]["speech"] == (
        f"Answered {CALLER_NAME} on {WEBEX_APP}."
    )
    assert isinstance(voice, WebexHarness)
    app = next(
        device
        for device in voice.entry.runtime_data.devices.values()
        if device.name == WEBEX_APP
    )
    assert [
        request.body["endpointId"]
        for request in voice.simulator.requests
        if request.path == "/v1/telephony/calls/answer"
    ] == [app.device_id]
    assert commands(voice, call_id) == ["answer"]
    await voice.settle()
    assert state_of(hass, app_sensor).state == "talking"
    assert state_of(hass, voice.sensor).state == "idle"


@pytest.mark.parametrize("harness", capable(Capability.TRANSFER), indirect=True)
async def test_transfer(hass: HomeAssistant, voice: Harness) -> None:
    call_id = await voice.ring()
    await voice.act("answer_call")
    await voice.settle()
    assert await say(hass, f"transfer the call to {voice.transfer_to}") == (
        f"Transferred {caller_said(voice)} on {voice.device_name} to"
        f" {voice.transfer_to}."
    )
    assert voice.sent(CallAction.TRANSFER) == [
        Command(CallAction.TRANSFER, call_id, voice.transfer_to)
    ]
    await voice.complete_transfer(call_id)
    assert state_of(hass, voice.sensor).state == "idle"
    assert state_of(hass, voice.last_call).attributes["outcome"] == "transferred"


@pytest.mark.parametrize("harness", capable(Capability.DIAL), indirect=True)
async def test_dial(hass: HomeAssistant, voice: Harness) -> None:
    reply = await say(hass, f"call {voice.dial_to} from the {voice.device_name}")
    assert reply == f"Calling {voice.dial_to} from {voice.device_name}."
    assert voice.sent(CallAction.DIAL) == [
        Command(CallAction.DIAL, None, voice.dial_to)
    ]
    await voice.settle()
    sensor = state_of(hass, voice.sensor)
    assert sensor.state == "dialing"
    assert sensor.attributes["direction"] == "outgoing"
    await voice.pickup(sensor.attributes["call_id"])
    assert state_of(hass, voice.sensor).state == "talking"
    assert await say(hass, "hang up") == (
        f"Ended the call with {voice.dial_to} on {voice.device_name}."
    )


@pytest.mark.parametrize(
    "harness",
    [key for key in capable(Capability.DIAL) if key != "graph"],
    indirect=True,
)
async def test_call_back_the_last_caller(hass: HomeAssistant, voice: Harness) -> None:
    call_id = await voice.ring()
    await voice.abandon(call_id)
    await voice.settle()
    assert await say(hass, "call back the last caller") == (
        f"Calling {caller_said(voice)} from {voice.device_name}."
    )
    assert voice.sent(CallAction.DIAL) == [Command(CallAction.DIAL, None, CALLER)]


@pytest.mark.parametrize("harness", ["graph"], indirect=True)
async def test_call_back_a_number_from_teams(
    hass: HomeAssistant, voice: Harness
) -> None:
    # A Teams bot calls a number only from an application instance, an option
    # voice cannot give: the reply says what to use instead.
    call_id = await voice.ring()
    await voice.abandon(call_id)
    await voice.settle()
    assert await say(hass, "call back the last caller") == (
        f"Could not call {caller_said(voice)} from {voice.device_name}."
        f" {provider_name(voice)} needs more than a number for that. Use the"
        " switchboard.dial action with its options."
    )
    assert voice.sent(CallAction.DIAL) == []
    assert state_of(hass, voice.sensor).state == "idle"


@pytest.mark.parametrize("harness", ["graph"], indirect=True)
async def test_a_phone_without_a_number_is_no_destination(
    hass: HomeAssistant, voice: Harness
) -> None:
    # A Teams calling bot has no number of its own.
    assert await say(hass, f"call the {voice.device_name}") == (
        f"{voice.device_name} has no number to call."
    )
    call_id = await voice.ring()
    await voice.act("answer_call")
    await voice.settle()
    assert await say(hass, f"transfer the call to the {voice.device_name}") == (
        f"{caller_said(voice)} is already on {voice.device_name}."
    )
    assert voice.sent(CallAction.DIAL) == []
    assert voice.sent(CallAction.TRANSFER) == []
    assert state_of(hass, voice.sensor).attributes["call_id"] == call_id


@pytest.mark.parametrize("harness", ["webex"], indirect=True)
async def test_no_transfer_to_another_endpoint_of_the_same_line(
    hass: HomeAssistant, voice: Harness
) -> None:
    # The desk phone and the app are two endpoints of one Webex line.
    call_id = await voice.ring()
    await voice.act("answer_call")
    await voice.settle()
    assert await say(hass, f"transfer the call to the {WEBEX_APP}") == (
        f"{CALLER_NAME} is already on {voice.device_name}."
    )
    assert voice.sent(CallAction.TRANSFER) == []
    assert state_of(hass, voice.sensor).attributes["call_id"] == call_id

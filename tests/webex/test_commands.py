"""Webex beyond answering: hold, resume, transfer, divert, DTMF and dial.

Each command runs against the simulator over loopback HTTP: the request it
received, then the webhooks that follow and the states the client reads from
them. Webex has no speak or play commands and reports no DTMF a caller presses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
import time
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.switchboard.providers.model import (
    ARG_DIGITS,
    ARG_TO,
    ARG_VOICEMAIL,
    ActionNotAllowedError,
    CallAction,
    CallEndedError,
    CallEvent,
    CallState,
    Device,
    Direction,
    EndReason,
    InvalidOptionError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from custom_components.switchboard.providers.webex import (
    HELD_ACTIONS,
    PRIMARY_DEVICE,
    PRIMARY_DEVICE_ID,
    REMOTE_HELD_ACTIONS,
    RINGING_ACTIONS,
    TALKING_ACTIONS,
    WebexClient,
    validate_options,
)
from tests.const import CALLER
from tests.fixtures.webex import WEBEX_APP, WEBEX_DESK_PHONE, SimulatorTokens
from tests.simulators.webex import WebexSimulator
from tests.webex.conftest import Receiver
from tests.webex.test_client import (
    CAPTURE_ANSWERED,
    FixedToken,
    as_call,
    delivered,
    device,
    envelope,
    signed,
)

OFFICE = "+15550100200"
DIALING_ACTIONS = frozenset({CallAction.HANGUP})


@pytest.fixture
async def client(
    webex_client: WebexClient, receiver: Receiver, webex: WebexSimulator
) -> WebexClient:
    """A client that knows its devices and has its webhook registered."""
    await webex_client.async_get_devices()
    await webex_client.async_set_webhook_url(receiver.url)
    webex.requests.clear()
    # Calls placed through the API wait for /_sim/pickup unless a test says.
    webex.pickup_delay = None
    return webex_client


async def talking_call(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver, desk: Device
) -> CallEvent:
    """Ring the user and answer on `desk`; return the talking event."""
    call_id = await webex.ring(CALLER, "Ada Lovelace")
    [ringing] = await delivered(webex, receiver, client)
    await client.async_perform(CallAction.ANSWER, as_call(ringing), desk, {})
    [talking] = await delivered(webex, receiver, client)
    assert talking.call_id == call_id
    assert talking.state is CallState.TALKING
    return talking


async def until(check: Callable[[], bool]) -> None:
    """Wait (up to 5 s) for something the simulator does on its own clock."""
    deadline = time.monotonic() + 5
    while not check():
        assert time.monotonic() < deadline, "the simulator did not get there"
        await asyncio.sleep(0.01)


def last_command(webex: WebexSimulator) -> tuple[str, Any]:
    request = webex.requests[-1]
    return request.path.removeprefix("/v1/telephony/calls/"), request.body


async def control(
    session: aiohttp.ClientSession, webex: WebexSimulator, route: str, body: Any
) -> tuple[int, str]:
    root = webex.base_url.removesuffix("/v1")
    async with session.post(f"{root}/_sim/{route}", json=body) as response:
        return response.status, await response.text()


async def api(
    session: aiohttp.ClientSession, webex: WebexSimulator, command: str, body: Any
) -> tuple[int, Any]:
    """POST one command to the simulator directly; status and JSON (None if empty)."""
    token = webex.issue_tokens()["access_token"]
    async with session.post(
        f"{webex.base_url}/telephony/calls/{command}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


# --- what Webex can do, and the options it takes ---


def test_supported_actions_are_what_webex_documents(webex_client: WebexClient) -> None:
    assert webex_client.supported_actions == {
        CallAction.ANSWER,
        CallAction.REJECT,
        CallAction.HANGUP,
        CallAction.TRANSFER,
        CallAction.HOLD,
        CallAction.RESUME,
        CallAction.SEND_DIGITS,
        CallAction.DIAL,
    }
    # No text-to-speech or playback in Webex call control.
    assert CallAction.SPEAK not in webex_client.supported_actions
    assert CallAction.PLAY not in webex_client.supported_actions


@pytest.mark.parametrize(
    ("action", "options"),
    [
        (CallAction.TRANSFER, {ARG_TO: OFFICE}),
        (CallAction.TRANSFER, {ARG_TO: "sip:desk@example.com", "divert": True}),
        (CallAction.TRANSFER, {ARG_VOICEMAIL: True}),
        (CallAction.TRANSFER, {ARG_VOICEMAIL: True, ARG_TO: "1234"}),
        (CallAction.TRANSFER, {ARG_VOICEMAIL: False, ARG_TO: "*73"}),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "1,234#*ABCD"}),
        (CallAction.DIAL, {ARG_TO: "tel:+12223334444"}),
        (CallAction.HOLD, {}),
        (CallAction.RESUME, {}),
    ],
)
def test_valid_options_pass(action: CallAction, options: dict[str, Any]) -> None:
    assert validate_options(action, options) == options


@pytest.mark.parametrize(
    ("action", "options", "option", "reason"),
    [
        (CallAction.TRANSFER, {}, ARG_TO, "is required"),
        (CallAction.TRANSFER, {ARG_VOICEMAIL: False}, ARG_TO, "is required"),
        (CallAction.TRANSFER, {"divert": True}, ARG_TO, "is required"),
        (CallAction.TRANSFER, {ARG_TO: ""}, ARG_TO, "must be a number"),
        (CallAction.TRANSFER, {ARG_TO: "   "}, ARG_TO, "must be a number"),
        (CallAction.TRANSFER, {ARG_TO: "1" * 257}, ARG_TO, "must be a number"),
        (CallAction.TRANSFER, {ARG_TO: "12\n34"}, ARG_TO, "must be a number"),
        (CallAction.TRANSFER, {ARG_TO: 1234}, ARG_TO, "must be a number"),
        (CallAction.TRANSFER, {ARG_VOICEMAIL: "yes"}, ARG_VOICEMAIL, "true or false"),
        (
            CallAction.TRANSFER,
            {ARG_VOICEMAIL: True, "divert": False},
            "divert",
            "must be true with voicemail",
        ),
        (CallAction.TRANSFER, {ARG_TO: OFFICE, "callId2": "x"}, "callId2", "not a"),
        (CallAction.SEND_DIGITS, {}, ARG_DIGITS, "is required"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: ""}, ARG_DIGITS, "must be 1 to 64"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "12x"}, ARG_DIGITS, "must be 1 to 64"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "a"}, ARG_DIGITS, "must be 1 to 64"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "1" * 65}, ARG_DIGITS, "must be 1"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: 1}, ARG_DIGITS, "must be 1 to 64"),
        (CallAction.DIAL, {}, ARG_TO, "is required"),
        (CallAction.DIAL, {ARG_TO: OFFICE, "endpointId": "x"}, "endpointId", "not a"),
        (CallAction.HOLD, {"callId": "x"}, "callId", "is not a Webex option"),
        (CallAction.RESUME, {ARG_TO: OFFICE}, ARG_TO, "is not a Webex option"),
        # No speak or play at Webex: none of their arguments is an option.
        (CallAction.PLAY, {"url": "not a url"}, "url", "is not a Webex option"),
        (CallAction.SPEAK, {"message": "Hello"}, "message", "is not a Webex option"),
    ],
)
def test_invalid_options_are_refused(
    webex_client: WebexClient,
    action: CallAction,
    options: dict[str, Any],
    option: str,
    reason: str,
) -> None:
    with pytest.raises(InvalidOptionError) as raised:
        webex_client.validate_options(action, options)
    assert raised.value.option == option
    assert reason in raised.value.reason


@pytest.mark.parametrize("action", [CallAction.SPEAK, CallAction.PLAY])
async def test_speak_and_play_are_refused_without_a_request(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    action: CallAction,
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    sent = len(webex.requests)
    with pytest.raises(ActionNotAllowedError, match="cannot"):
        await client.async_perform(action, as_call(talking), desk, {})
    assert len(webex.requests) == sent


# --- the actions each state offers ---


async def test_actions_follow_the_state(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_APP))
    await webex.hold(call_id)
    await webex.resume(call_id)
    await webex.remote_hold(call_id)
    ringing, talking, held, resumed, remote = await delivered(webex, receiver, client)
    assert ringing.actions == RINGING_ACTIONS
    assert CallAction.TRANSFER in ringing.actions  # a ringing call is diverted
    assert talking.actions == TALKING_ACTIONS
    assert held.state is CallState.ON_HOLD
    assert held.actions == HELD_ACTIONS
    assert resumed.actions == TALKING_ACTIONS
    # Held by the far end: on hold, but not the user's to resume.
    assert remote.state is CallState.ON_HOLD
    assert remote.actions == REMOTE_HELD_ACTIONS
    assert CallAction.RESUME not in remote.actions
    assert remote.raw["state"] == "remoteHeld"


# --- hold and resume ---


async def test_hold_and_resume(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    call_id = talking.call_id
    await client.async_perform(CallAction.HOLD, as_call(talking), desk, {})
    assert last_command(webex) == ("hold", {"callId": call_id})
    assert webex.calls[call_id].state == "held"
    [held] = await delivered(webex, receiver, client)
    assert held.state is CallState.ON_HOLD
    assert held.device_ids == (desk.device_id,)
    assert held.actions == HELD_ACTIONS
    await client.async_perform(CallAction.RESUME, as_call(held), desk, {})
    assert last_command(webex) == ("resume", {"callId": call_id})
    [resumed] = await delivered(webex, receiver, client)
    assert resumed.state is CallState.TALKING
    assert resumed.actions == TALKING_ACTIONS
    assert talking.order < held.order < resumed.order
    assert [command["command"] for command in webex.calls[call_id].commands] == [
        "answer",
        "hold",
        "resume",
    ]


async def test_hold_and_resume_in_the_wrong_state_are_refused(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    with pytest.raises(ActionNotAllowedError, match="connected call"):
        await client.async_perform(CallAction.HOLD, as_call(ringing), desk, {})
    with pytest.raises(ActionNotAllowedError, match="held call"):
        await client.async_perform(CallAction.RESUME, as_call(ringing), desk, {})
    assert webex.calls[call_id].state == "alerting"
    webex.wrong_state_status = 409
    await webex.answer_on_device(call_id, desk.device_id)
    [talking] = await delivered(webex, receiver, client)
    with pytest.raises(ActionNotAllowedError):
        await client.async_perform(CallAction.RESUME, as_call(talking), desk, {})
    await webex.remote_hangup(call_id)
    await delivered(webex, receiver, client)
    with pytest.raises(CallEndedError):
        await client.async_perform(CallAction.HOLD, as_call(talking), desk, {})


@pytest.mark.parametrize(
    ("action", "status", "error"),
    [
        (CallAction.HOLD, 400, ActionNotAllowedError),
        (CallAction.HOLD, 403, PermissionDeniedError),
        (CallAction.HOLD, 404, CallEndedError),
        (CallAction.HOLD, 409, ActionNotAllowedError),
        (CallAction.HOLD, 429, RateLimitedError),
        (CallAction.HOLD, 503, ProviderUnavailableError),
        (CallAction.SEND_DIGITS, 400, ActionNotAllowedError),
        (CallAction.SEND_DIGITS, 404, CallEndedError),
        (CallAction.SEND_DIGITS, 423, RateLimitedError),
        (CallAction.SEND_DIGITS, 500, ProviderUnavailableError),
        (CallAction.TRANSFER, 400, ActionNotAllowedError),
        (CallAction.TRANSFER, 410, CallEndedError),
        (CallAction.TRANSFER, 429, RateLimitedError),
        (CallAction.TRANSFER, 502, ProviderUnavailableError),
    ],
)
async def test_command_errors_map_to_the_model(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    action: CallAction,
    status: int,
    error: type[ProviderError],
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    options = {
        CallAction.SEND_DIGITS: {ARG_DIGITS: "1"},
        CallAction.TRANSFER: {ARG_TO: OFFICE},
    }.get(action, {})
    webex.fail_next(status, "/telephony/calls/", retry_after=3, message="Simulated")
    with pytest.raises(error) as raised:
        await client.async_perform(action, as_call(talking), desk, options)
    assert type(raised.value) is error
    assert str(raised.value).startswith("Simulated (tracking id ROUTER_")
    if isinstance(raised.value, RateLimitedError):
        assert raised.value.retry_after == 3
    assert webex.calls[talking.call_id].state == "connected"


# --- send digits ---


async def test_send_digits(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    options = validate_options(CallAction.SEND_DIGITS, {ARG_DIGITS: "1,23#"})
    await client.async_perform(CallAction.SEND_DIGITS, as_call(talking), desk, options)
    assert last_command(webex) == (
        "transmitDtmf",
        {"callId": talking.call_id, "dtmf": "1,23#"},
    )
    assert webex.calls[talking.call_id].dtmf == ["1,23#"]
    # Sending DTMF changes nothing Webex reports.
    assert await delivered(webex, receiver, client) == []
    await webex.hold(talking.call_id)
    [held] = await delivered(webex, receiver, client)
    assert held.actions == HELD_ACTIONS  # no digits while held
    with pytest.raises(ActionNotAllowedError, match="connected call"):
        await client.async_perform(CallAction.SEND_DIGITS, as_call(held), desk, options)
    assert webex.calls[talking.call_id].dtmf == ["1,23#"]


async def test_simulator_checks_dtmf_bodies(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    call = {"callId": talking.call_id}
    assert (await api(webex_session, webex, "transmitDtmf", call))[0] == 400
    bad = {**call, "dtmf": "12x"}
    status, body = await api(webex_session, webex, "transmitDtmf", bad)
    assert (status, body["message"]) == (
        400,
        "dtmf may hold only 0-9, *, #, A-D and commas.",
    )
    gone = {"callId": "unknown", "dtmf": "1"}
    assert (await api(webex_session, webex, "transmitDtmf", gone))[0] == 404
    good = {**call, "dtmf": "A,B"}
    assert await api(webex_session, webex, "transmitDtmf", good) == (204, None)


# --- DTMF the caller presses: Webex reports none ---


async def test_pressed_keys_are_not_reported(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    status, text = await control(
        webex_session, webex, "press", {"call_id": talking.call_id, "digits": "1"}
    )
    assert status == 409
    assert "does not report the keys a caller presses" in text
    assert await delivered(webex, receiver, client) == []


@pytest.mark.parametrize(
    "extra",
    [
        {"eventType": "dtmf", "digits": "1"},
        {"eventType": "dtmfReceived", "dtmf": "12#"},
        {"digits": ["1"], "dtmf": {"digit": 1}},
        {"eventType": "gather", "digits": "\ud800"},
    ],
)
async def test_dtmf_like_fields_never_become_digits(
    webex_client: WebexClient, webex_secret: str, extra: dict[str, Any]
) -> None:
    data = {**CAPTURE_ANSWERED["data"], **extra}
    events = await webex_client.async_parse_webhook(
        *signed(webex_secret, envelope(data)), time.time()
    )
    # Read as what the rest of the data says: a call state, never digits.
    assert all(event.digits is None for event in events)
    assert all(event.state is CallState.TALKING for event in events)


# --- transfer: to a destination, once it answers ---


async def test_transfer_completes_when_the_destination_answers(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    options = validate_options(CallAction.TRANSFER, {ARG_TO: OFFICE})
    await client.async_perform(CallAction.TRANSFER, as_call(talking), desk, options)
    assert last_command(webex) == (
        "transfer",
        {"callId1": talking.call_id, "destination": OFFICE},
    )
    [consult_id] = [c.id for c in webex.calls.values() if c.transfer_of]
    [placing] = await delivered(webex, receiver, client)
    # Webex's call to the destination: one of the user's calls, on the same
    # endpoint, until the destination answers.
    assert placing.call_id == consult_id
    assert placing.state is CallState.DIALING
    assert placing.direction is Direction.OUTGOING
    assert placing.remote_number == OFFICE
    assert placing.device_ids == (desk.device_id,)
    assert webex.calls[talking.call_id].state == "connected"
    status, _ = await control(webex_session, webex, "pickup", {"call_id": consult_id})
    assert status == 200
    # Two calls: their deliveries may interleave.
    events = {(e.call_id, e.state): e for e in await delivered(webex, receiver, client)}
    assert set(events) == {
        (consult_id, CallState.TALKING),
        (consult_id, CallState.ENDED),
        (talking.call_id, CallState.ENDED),
    }
    gone = events[talking.call_id, CallState.ENDED]
    assert gone.end_reason is EndReason.TRANSFERRED
    assert gone.device_ids == (desk.device_id,)
    done = events[consult_id, CallState.ENDED]
    assert done.end_reason is EndReason.TRANSFERRED
    assert events[consult_id, CallState.TALKING].order < done.order
    assert webex.calls[talking.call_id].sent_to == OFFICE


async def test_transfer_that_the_destination_refuses(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    await client.async_perform(
        CallAction.TRANSFER, as_call(talking), desk, {ARG_TO: OFFICE}
    )
    [placing] = await delivered(webex, receiver, client)
    await webex.remote_hangup(placing.call_id)  # the destination does not answer
    [failed] = await delivered(webex, receiver, client)
    assert failed.end_reason is EndReason.COMPLETED
    # "If the destination does not respond, the call is not transferred."
    assert webex.calls[talking.call_id].state == "connected"
    await client.async_perform(CallAction.HANGUP, as_call(talking), desk, {})
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.COMPLETED


async def test_transfer_is_answered_after_the_pickup_delay(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    webex.pickup_delay = 0.0
    desk = device(webex, WEBEX_DESK_PHONE)
    held = await talking_call(client, webex, receiver, desk)
    await client.async_perform(CallAction.HOLD, as_call(held), desk, {})
    await delivered(webex, receiver, client)
    await client.async_perform(
        CallAction.TRANSFER, as_call(held), desk, {ARG_TO: "1234"}
    )
    await until(lambda: webex.calls[held.call_id].state == "disconnected")
    events = await delivered(webex, receiver, client)
    [gone] = [e for e in events if e.call_id == held.call_id]
    assert gone.end_reason is EndReason.TRANSFERRED


async def test_simulator_transfer_api(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    ringing_id = await webex.ring(CALLER)
    ringing = {"callId1": ringing_id, "destination": OFFICE}
    status, body = await api(webex_session, webex, "transfer", ringing)
    assert status == 400
    assert "can be diverted" in body["message"]
    other_id = await webex.ring("+15550100300")
    for call_id in (ringing_id, other_id):
        await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_APP))
    for bad, expected in (
        ({"callId2": ringing_id}, 400),
        ({"destination": OFFICE}, 400),
        ({"callId1": ringing_id}, 400),
        ({"callId1": ringing_id, "callId2": other_id, "destination": OFFICE}, 400),
        ({"callId1": "", "destination": OFFICE}, 400),
        ({"callId1": "unknown", "destination": OFFICE}, 404),
        ({"callId1": ringing_id, "callId2": "unknown"}, 404),
    ):
        assert (await api(webex_session, webex, "transfer", bad))[0] == expected
    # Exactly two calls: transferred together without naming them.
    assert await api(webex_session, webex, "transfer", {}) == (204, None)
    events = await delivered(webex, receiver, client)
    ended = [e for e in events if e.state is CallState.ENDED]
    assert {e.call_id for e in ended} == {ringing_id, other_id}
    assert webex.calls[ringing_id].sent_to == other_id
    assert (await api(webex_session, webex, "transfer", {}))[0] == 400


async def test_attended_transfer_in_the_simulator(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    app = webex.endpoint_id(WEBEX_APP)
    ids = [await webex.ring(number) for number in (CALLER, OFFICE, "+15550100300")]
    for call_id in ids:
        await webex.answer_on_device(call_id, app)
    body = {"callId1": ids[0], "callId2": ids[1]}
    assert await api(webex_session, webex, "transfer", body) == (204, None)
    await delivered(webex, receiver, client)
    assert [webex.calls[i].state for i in ids] == [
        "disconnected",
        "disconnected",
        "connected",
    ]


# --- divert: blind, or to voicemail ---


@pytest.mark.parametrize(
    ("options", "body", "sent_to"),
    [
        ({ARG_TO: OFFICE}, {"destination": OFFICE}, OFFICE),
        ({ARG_VOICEMAIL: True}, {"toVoicemail": True}, "voicemail"),
        (
            {ARG_VOICEMAIL: True, ARG_TO: "1234"},
            {"destination": "1234", "toVoicemail": True},
            "voicemail",
        ),
    ],
)
async def test_a_ringing_call_is_diverted(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    options: dict[str, Any],
    body: dict[str, Any],
    sent_to: str,
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    validated = validate_options(CallAction.TRANSFER, options)
    await client.async_perform(
        CallAction.TRANSFER, as_call(ringing), device(webex, WEBEX_APP), validated
    )
    assert last_command(webex) == ("divert", {"callId": call_id, **body})
    assert webex.calls[call_id].sent_to == sent_to
    [ended] = await delivered(webex, receiver, client)
    # Sent on, not missed.
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.TRANSFERRED


@pytest.mark.parametrize(
    "options", [{ARG_TO: OFFICE, "divert": True}, {ARG_VOICEMAIL: True}]
)
async def test_a_talking_call_is_diverted_on_request(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    options: dict[str, Any],
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    talking = await talking_call(client, webex, receiver, desk)
    await client.async_perform(CallAction.TRANSFER, as_call(talking), desk, options)
    command, body = last_command(webex)
    assert command == "divert"
    assert body["callId"] == talking.call_id
    assert "divert" not in body
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.TRANSFERRED
    assert ended.device_ids == (desk.device_id,)
    # Gone at Webex: a refresh says how it ended.
    refreshed = await client.async_refresh_call(as_call(talking))
    assert refreshed is not None
    assert refreshed.end_reason is EndReason.TRANSFERRED


async def test_a_refused_divert_is_forgotten(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    webex.fail_next(409, "/divert")
    with pytest.raises(ActionNotAllowedError):
        await client.async_perform(
            CallAction.TRANSFER,
            as_call(ringing),
            device(webex, WEBEX_APP),
            {ARG_TO: OFFICE},
        )
    await webex.remote_hangup(call_id)
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.MISSED


async def test_a_divert_that_may_have_happened_is_kept(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    webex.fail_next(503, "/divert")
    with pytest.raises(ProviderUnavailableError):
        await client.async_perform(
            CallAction.TRANSFER,
            as_call(ringing),
            device(webex, WEBEX_APP),
            {ARG_TO: OFFICE},
        )
    await webex.remote_hangup(call_id)
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.TRANSFERRED


async def test_simulator_divert_api(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    call_id = await webex.ring(CALLER)
    call = {"callId": call_id}
    for bad, message in (
        (call, "destination is required if toVoicemail is false."),
        ({**call, "toVoicemail": "yes"}, "toVoicemail must be true or false."),
        ({**call, "destination": ""}, "destination is required."),
    ):
        status, body = await api(webex_session, webex, "divert", bad)
        assert (status, body["message"]) == (400, message)
    placed = await webex.dial(OFFICE)
    status, body = await api(
        webex_session, webex, "divert", {"callId": placed, "destination": OFFICE}
    )
    assert (status, body["message"]) == (400, "A call being placed cannot be diverted.")
    assert await api(webex_session, webex, "divert", {**call, "toVoicemail": True}) == (
        204,
        None,
    )
    await delivered(webex, receiver, client)
    assert webex.calls[call_id].state == "disconnected"


# --- dial ---


async def test_dial_from_a_desk_phone(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    options = validate_options(CallAction.DIAL, {ARG_TO: OFFICE})
    first = await client.async_dial(desk, options)
    assert last_command(webex) == (
        "dial",
        {"destination": OFFICE, "endpointId": desk.device_id},
    )
    assert first.call_id in webex.calls
    assert first.state is CallState.DIALING
    assert first.direction is Direction.OUTGOING
    assert first.device_ids == (desk.device_id,)
    assert first.remote_number == OFFICE
    assert first.local_number == "+15550100100"
    assert first.actions == DIALING_ACTIONS
    assert first.raw == {
        "event": "dial",
        "callSessionId": webex.calls[first.call_id].call_session_id,
    }
    # Click to dial: the desk phone alerts first.
    [alerting] = await delivered(webex, receiver, client)
    assert alerting.call_id == first.call_id
    assert alerting.state is CallState.DIALING
    assert alerting.raw["personality"] == "clickToDial"
    assert alerting.device_ids == (desk.device_id,)
    assert alerting.actions == DIALING_ACTIONS
    # The dial's own event sorts before anything Webex says of the call.
    assert first.order < alerting.order
    status, _ = await control(webex_session, webex, "pickup", {"callId": first.call_id})
    assert status == 200
    connecting, talking = await delivered(webex, receiver, client)
    assert connecting.state is CallState.DIALING
    assert connecting.direction is Direction.OUTGOING
    assert talking.state is CallState.TALKING
    assert talking.actions == TALKING_ACTIONS
    assert talking.device_ids == (desk.device_id,)
    await client.async_perform(CallAction.HANGUP, as_call(talking), desk, {})
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.COMPLETED


async def test_dial_from_the_app_is_answered_after_the_pickup_delay(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    webex.pickup_delay = 0.0
    app = device(webex, WEBEX_APP)
    first = await client.async_dial(app, {ARG_TO: "sip:office@example.com"})
    await until(lambda: webex.calls[first.call_id].state == "connected")
    placing, talking = await delivered(webex, receiver, client)
    assert placing.state is CallState.DIALING
    assert placing.raw["personality"] == "originator"
    assert talking.state is CallState.TALKING
    assert talking.device_ids == (app.device_id,)


async def test_a_dial_nobody_answers_stays_dialing(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    app = device(webex, WEBEX_APP)
    first = await client.async_dial(app, {ARG_TO: OFFICE})
    [placing] = await delivered(webex, receiver, client)
    assert placing.state is CallState.DIALING
    assert webex.calls[first.call_id].state == "connecting"
    await client.async_perform(CallAction.HANGUP, as_call(placing), app, {})
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.COMPLETED
    # Nothing left to pick up.
    status, _ = await control(
        webex_session, webex, "pickup", {"call_id": first.call_id}
    )
    assert status == 400


async def test_dial_from_the_primary_device(
    webex: WebexSimulator,
    webex_session: aiohttp.ClientSession,
    webex_tokens: SimulatorTokens,
) -> None:
    client = WebexClient(webex_session, webex_tokens, base_url=webex.base_url)
    primary = Device(PRIMARY_DEVICE_ID, PRIMARY_DEVICE, PRIMARY_DEVICE)
    first = await client.async_dial(primary, {ARG_TO: OFFICE})
    assert last_command(webex) == ("dial", {"destination": OFFICE})
    assert first.device_ids == (PRIMARY_DEVICE_ID,)
    assert webex.calls[first.call_id].personality == "originator"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ActionNotAllowedError),
        (403, PermissionDeniedError),
        (404, ProviderError),
        (409, ActionNotAllowedError),
        (429, RateLimitedError),
        (503, ProviderUnavailableError),
    ],
)
async def test_dial_errors_map_to_the_model(
    client: WebexClient,
    webex: WebexSimulator,
    status: int,
    error: type[ProviderError],
) -> None:
    webex.fail_next(status, "/dial", message="Simulated")
    with pytest.raises(error) as raised:
        await client.async_dial(device(webex, WEBEX_APP), {ARG_TO: OFFICE})
    assert type(raised.value) is error
    assert not webex.calls


async def test_dial_on_an_unknown_endpoint_is_refused(
    client: WebexClient, webex: WebexSimulator
) -> None:
    stranger = Device("Y2lzY29zcGFyazovL3VzL0RFVklDRS94", "Other", "Desk phone")
    with pytest.raises(ActionNotAllowedError, match="Invalid endpointId"):
        await client.async_dial(stranger, {ARG_TO: OFFICE})
    assert not webex.calls


async def test_dial_without_a_call_id_is_an_error(
    webex_session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async def dial(request: web.Request) -> web.Response:
        del request
        return web.json_response({"callSessionId": "s"}, status=201)

    app = web.Application()
    app.router.add_post("/v1/telephony/calls/dial", dial)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        client = WebexClient(
            webex_session,
            FixedToken(),
            base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/v1",
        )
        app_device = Device("Y2lz", WEBEX_APP, "Webex app")
        with pytest.raises(ProviderError, match="which call it placed"):
            await client.async_dial(app_device, {ARG_TO: OFFICE})
    finally:
        await runner.cleanup()


# --- the simulator's own surface ---


async def test_simulator_controls_and_help(
    webex: WebexSimulator, webex_session: aiohttp.ClientSession
) -> None:
    help_text = webex.help_text()
    assert "/_sim/pickup" in help_text
    assert "/_sim/press" in help_text
    assert "/v1/telephony/calls/{command}" in help_text
    call_id = await webex.ring(CALLER)
    for body in ({"call_id": "unknown"}, {"call_id": call_id}, {}):
        assert (await control(webex_session, webex, "pickup", body))[0] == 400
    assert (await control(webex_session, webex, "press", {}))[0] == 409
    assert webex.calls[call_id].state == "alerting"


async def test_closing_cancels_pending_pickups(
    webex: WebexSimulator, webex_session: aiohttp.ClientSession
) -> None:
    webex.pickup_delay = 60
    status, placed = await api(webex_session, webex, "dial", {"destination": OFFICE})
    assert status == 201
    await webex.wait_for_webhooks()
    assert webex._timers
    await webex.close()
    assert not webex._timers
    assert webex.calls[placed["callId"]].state == "connecting"

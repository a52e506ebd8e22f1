"""Genesys beyond answering: transfer, hold, resume, send digits and dial.

Each command goes to the simulator over loopback HTTP; the tests check the
request it received (path and body), the CometD messages that follow and the
events the client reads from them, and how each documented refusal maps to
the model.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from custom_components.switchboard.providers import genesys as genesys_module
from custom_components.switchboard.providers.genesys import GenesysClient
from custom_components.switchboard.providers.model import (
    ARG_DIGITS,
    ARG_MESSAGE,
    ARG_TO,
    ARG_URL,
    ARG_VOICEMAIL,
    ActionNotAllowedError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
    CallNotFoundError,
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
from tests.fixtures.genesys import GENESYS_DESK
from tests.simulators.genesys import GenesysSimulator

from .streaming import Listener, make_client
from .test_client import CALLER, message

TARGET = "+15557654321"
OPERATIONS = "/me/calls/"

pytestmark = pytest.mark.usefixtures("quick")


@pytest.fixture
def desk_id(genesys: GenesysSimulator) -> str:
    return genesys.device_id(GENESYS_DESK)


@pytest.fixture
def desk(desk_id: str) -> Device:
    return Device(desk_id, GENESYS_DESK, "Agent device", GENESYS_DESK)


def active(call_id: str, device: Device, state: CallState) -> Call:
    return Call(call_id, (device.device_id,), Direction.INCOMING, state)


async def talking_call(
    genesys: GenesysSimulator, stream: Listener, desk_id: str
) -> str:
    """An incoming call the agent answered, its messages handled."""
    call_id = genesys.ring(desk_id, CALLER)
    genesys.answer(call_id)
    await genesys.wait_for_delivered()
    assert stream.of(call_id)[-1].state is CallState.TALKING
    return call_id


def posts(genesys: GenesysSimulator, fragment: str) -> list[Any]:
    return [
        (request.path, request.body)
        for request in genesys.requests
        if request.method == "POST" and fragment in request.path
    ]


TALKING_ACTIONS = frozenset(
    {
        CallAction.HANGUP,
        CallAction.HOLD,
        CallAction.TRANSFER,
        CallAction.SEND_DIGITS,
    }
)
HELD_ACTIONS = frozenset({CallAction.HANGUP, CallAction.RESUME, CallAction.TRANSFER})


# --- what Genesys can do at all ---


def test_supported_actions_are_what_gws_documents(client: GenesysClient) -> None:
    assert client.supported_actions == {
        CallAction.ANSWER,
        CallAction.HANGUP,
        CallAction.TRANSFER,
        CallAction.HOLD,
        CallAction.RESUME,
        CallAction.SEND_DIGITS,
        CallAction.DIAL,
    }
    # No voice Reject, no text-to-speech, no playback in GWS.
    for action in (CallAction.REJECT, CallAction.SPEAK, CallAction.PLAY):
        assert action not in client.supported_actions


@pytest.mark.parametrize(
    ("action", "says"),
    [
        (CallAction.SPEAK, "no text-to-speech or playback"),
        (CallAction.PLAY, "no text-to-speech or playback"),
        (CallAction.REJECT, "no Reject"),
        (CallAction.DIAL, "no operation for dial"),
    ],
)
async def test_actions_without_an_operation_send_nothing(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    desk_id: str,
    action: CallAction,
    says: str,
) -> None:
    call_id = genesys.ring(desk_id, CALLER)
    with pytest.raises(ActionNotAllowedError, match=says):
        await client.async_perform(
            action, active(call_id, desk, CallState.RINGING), desk, {}
        )
    assert genesys.requests == []


# --- transfer ---


async def test_single_step_transfer_ends_the_call_as_transferred(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    assert stream.of(call_id)[-1].actions == TALKING_ACTIONS
    options = client.validate_options(
        CallAction.TRANSFER,
        {ARG_TO: " 15002 ", "location": "Site-A", "user_data": {"Reason": "Sales"}},
    )
    await client.async_perform(
        CallAction.TRANSFER, active(call_id, desk, CallState.TALKING), desk, options
    )
    await genesys.wait_for_delivered()
    assert posts(genesys, OPERATIONS) == [
        (
            f"/api/v2/me/calls/{call_id}",
            {
                "operationName": "SingleStepTransfer",
                "destination": {"phoneNumber": "15002"},
                "location": "Site-A",
                "userData": {"Reason": "Sales"},
            },
        )
    ]
    assert genesys.calls[call_id].transferred_to == "15002"
    ended = stream.of(call_id)[-1]
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.TRANSFERRED
    assert ended.actions == frozenset()
    # GWS forgets the call; asked again, it is still a transferred call.
    gone = await client.async_refresh_call(active(call_id, desk, CallState.TALKING))
    assert gone is not None
    assert gone.end_reason is EndReason.TRANSFERRED


async def test_a_held_call_can_be_transferred(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    genesys.hold(call_id)
    await genesys.wait_for_delivered()
    assert stream.of(call_id)[-1].actions == HELD_ACTIONS
    await client.async_perform(
        CallAction.TRANSFER,
        active(call_id, desk, CallState.ON_HOLD),
        desk,
        {ARG_TO: "15002"},
    )
    await genesys.wait_for_delivered()
    assert genesys.calls[call_id].operations[-1] == {
        "operationName": "SingleStepTransfer",
        "destination": {"phoneNumber": "15002"},
    }
    assert stream.of(call_id)[-1].end_reason is EndReason.TRANSFERRED


async def test_a_refused_transfer_leaves_a_later_end_completed(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    genesys.fail_next(400, status_code=2, path_contains=OPERATIONS)
    with pytest.raises(ActionNotAllowedError, match="statusCode 2"):
        await client.async_perform(
            CallAction.TRANSFER,
            active(call_id, desk, CallState.TALKING),
            desk,
            {ARG_TO: "15002"},
        )
    assert genesys.calls[call_id].state == "Established"
    genesys.remote_hangup(call_id)
    await genesys.wait_for_delivered()
    assert stream.of(call_id)[-1].end_reason is EndReason.COMPLETED


async def test_an_asynchronous_error_after_a_transfer_unmarks_it(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    # GWS takes the request, then T-Server fails it: an error on CometD.
    genesys.fail_next(200, body='{"statusCode": 0}', path_contains=OPERATIONS)
    await client.async_perform(
        CallAction.TRANSFER,
        active(call_id, desk, CallState.TALKING),
        desk,
        {ARG_TO: "15999"},
    )
    genesys.publish_error("Invalid destination 15999")
    genesys.remote_hangup(call_id)
    await genesys.wait_for_delivered()
    assert "Invalid destination 15999" in caplog.text
    assert stream.of(call_id)[-1].end_reason is EndReason.COMPLETED


async def test_a_release_long_after_a_transfer_is_no_transfer(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    monkeypatch.setattr(genesys_module, "TRANSFER_WINDOW", -1.0)
    genesys.fail_next(200, body='{"statusCode": 0}', path_contains=OPERATIONS)
    await client.async_perform(
        CallAction.TRANSFER,
        active(call_id, desk, CallState.TALKING),
        desk,
        {ARG_TO: "15002"},
    )
    genesys.remote_hangup(call_id)
    await genesys.wait_for_delivered()
    assert stream.of(call_id)[-1].end_reason is EndReason.COMPLETED


async def test_old_transfer_notes_are_forgotten(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    desk_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(genesys_module, "TRANSFER_WINDOW", -1.0)
    calls = [genesys.ring(desk_id, CALLER), genesys.ring(desk_id, CALLER)]
    genesys.fail_next(200, body='{"statusCode": 0}', path_contains=OPERATIONS, count=2)
    for call_id in calls:
        genesys.answer(call_id)
        await client.async_perform(
            CallAction.TRANSFER,
            active(call_id, desk, CallState.TALKING),
            desk,
            {ARG_TO: "15002"},
        )
    # The first note was past the window when the second was made.
    assert list(client._transfers) == [calls[1]]


async def test_a_ringing_call_offers_no_transfer(
    client: GenesysClient, genesys: GenesysSimulator, desk: Device, desk_id: str
) -> None:
    call_id = genesys.ring(desk_id, CALLER)
    [ring] = await client.async_list_calls()
    assert ring.actions == frozenset({CallAction.ANSWER, CallAction.HANGUP})
    # GWS refuses an operation the call's capabilities do not list.
    with pytest.raises(ActionNotAllowedError, match="statusCode 2"):
        await client.async_perform(
            CallAction.TRANSFER,
            active(call_id, desk, CallState.RINGING),
            desk,
            {ARG_TO: "15002"},
        )
    assert genesys.calls[call_id].state == "Ringing"


# --- hold and retrieve ---


async def test_hold_and_retrieve(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    await client.async_perform(
        CallAction.HOLD, active(call_id, desk, CallState.TALKING), desk, {}
    )
    await genesys.wait_for_delivered()
    held = stream.of(call_id)[-1]
    assert held.state is CallState.ON_HOLD
    assert held.actions == HELD_ACTIONS
    await client.async_perform(
        CallAction.RESUME, active(call_id, desk, CallState.ON_HOLD), desk, {}
    )
    await genesys.wait_for_delivered()
    back = stream.of(call_id)[-1]
    assert back.state is CallState.TALKING
    assert back.actions == TALKING_ACTIONS
    assert back.order > held.order
    assert posts(genesys, OPERATIONS) == [
        (f"/api/v2/me/calls/{call_id}", {"operationName": "Hold"}),
        (f"/api/v2/me/calls/{call_id}", {"operationName": "Retrieve"}),
    ]


async def test_hold_and_retrieve_in_the_wrong_state_are_refused(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    with pytest.raises(ActionNotAllowedError, match="not valid for the current"):
        await client.async_perform(
            CallAction.RESUME, active(call_id, desk, CallState.TALKING), desk, {}
        )
    genesys.hold(call_id)
    with pytest.raises(ActionNotAllowedError):
        await client.async_perform(
            CallAction.HOLD, active(call_id, desk, CallState.ON_HOLD), desk, {}
        )
    assert genesys.calls[call_id].state == "Held"


async def test_commands_on_a_call_that_ended_say_so(
    client: GenesysClient, genesys: GenesysSimulator, desk: Device, desk_id: str
) -> None:
    call_id = genesys.ring(desk_id, CALLER)
    genesys.answer(call_id)
    genesys.remote_hangup(call_id)
    for action, options in (
        (CallAction.HOLD, {}),
        (CallAction.TRANSFER, {ARG_TO: "15002"}),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "1"}),
    ):
        with pytest.raises(CallEndedError, match="statusCode 6"):
            await client.async_perform(
                action, active(call_id, desk, CallState.TALKING), desk, options
            )


@pytest.mark.parametrize(
    ("status", "status_code", "error"),
    [
        (400, 2, ActionNotAllowedError),
        (404, 6, CallEndedError),
        (400, 1, ProviderError),
        (400, 10, ProviderError),
        (403, 5, PermissionDeniedError),
        (500, 4, ProviderUnavailableError),
        (503, None, ProviderUnavailableError),
        (429, None, RateLimitedError),
    ],
)
@pytest.mark.parametrize(
    ("action", "options"),
    [
        (CallAction.TRANSFER, {ARG_TO: "15002"}),
        (CallAction.HOLD, {}),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "5"}),
    ],
)
async def test_command_errors_map_to_the_model(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    desk_id: str,
    action: CallAction,
    options: dict[str, Any],
    status: int,
    status_code: int | None,
    error: type[ProviderError],
) -> None:
    call_id = genesys.ring(desk_id, CALLER)
    genesys.answer(call_id)
    genesys.fail_next(status, status_code=status_code, path_contains=OPERATIONS)
    with pytest.raises(error) as raised:
        await client.async_perform(
            action, active(call_id, desk, CallState.TALKING), desk, options
        )
    assert type(raised.value) is error
    assert f"HTTP {status}" in str(raised.value)
    assert genesys.calls[call_id].state == "Established"
    assert genesys.calls[call_id].operations == []


# --- send digits ---


async def test_send_digits(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
) -> None:
    call_id = await talking_call(genesys, stream, desk_id)
    before = len(stream.of(call_id))
    options = client.validate_options(CallAction.SEND_DIGITS, {ARG_DIGITS: "12#"})
    await client.async_perform(
        CallAction.SEND_DIGITS, active(call_id, desk, CallState.TALKING), desk, options
    )
    await genesys.wait_for_delivered()
    assert posts(genesys, OPERATIONS) == [
        (
            f"/api/v2/me/calls/{call_id}",
            {"operationName": "SendDtmf", "digits": "12#"},
        )
    ]
    assert genesys.published[-1]["data"]["notificationType"] == "DtmfSent"
    # DtmfSent: the call stays talking; these are our digits, not the caller's.
    [sent] = stream.of(call_id)[before:]
    assert sent.state is CallState.TALKING
    assert sent.digits is None
    assert sent.actions == TALKING_ACTIONS
    assert "DtmfSent" in sent.event_id


async def test_digits_gws_does_not_take_are_refused(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    # The page says "one or more digits (0-9)": a strict server refuses "#".
    sim = GenesysSimulator(dtmf_alphabet="0123456789")
    device_id = sim.add_device(GENESYS_DESK)
    await sim.start()
    try:
        client = make_client(session, sim)
        call_id = sim.ring(device_id, CALLER)
        sim.answer(call_id)
        desk = Device(device_id, GENESYS_DESK, "Agent device", GENESYS_DESK)
        with pytest.raises(ProviderError, match="statusCode 10") as raised:
            await client.async_perform(
                CallAction.SEND_DIGITS,
                active(call_id, desk, CallState.TALKING),
                desk,
                {ARG_DIGITS: "#"},
            )
        assert type(raised.value) is ProviderError
        assert sim.calls[call_id].operations == []
    finally:
        await sim.close()


# --- dial ---


async def test_dial_returns_the_dialling_call_then_the_far_end_answers(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
    desk_id: str,
) -> None:
    options = client.validate_options(
        CallAction.DIAL, {ARG_TO: TARGET, "user_data": {"Product": "Guitars"}}
    )
    first = await client.async_dial(desk, options)
    assert posts(genesys, "/me/devices/") == [
        (
            f"/api/v2/me/devices/{desk_id}/calls",
            {
                "operationName": "Dial",
                "destination": {"phoneNumber": TARGET},
                "userData": {"Product": "Guitars"},
            },
        )
    ]
    assert first.call_id in genesys.calls
    [(_, dial_body)] = posts(genesys, "/me/devices/")
    assert genesys.calls[first.call_id].dial == dial_body
    assert genesys.calls[first.call_id].user_data == {"Product": "Guitars"}
    assert first.state is CallState.DIALING
    assert first.direction is Direction.OUTGOING
    assert first.device_ids == (desk_id,)
    assert first.remote_number == TARGET
    assert first.local_number == GENESYS_DESK
    # GWS offers SendDtmf while dialing; nobody hears digits before an answer.
    assert first.actions == frozenset({CallAction.HANGUP})
    # The far end answers after pickup_delay.
    await stream.wait_for(
        lambda: any(e.state is CallState.TALKING for e in stream.of(first.call_id))
    )
    dialing, talking = stream.of(first.call_id)
    assert dialing.event_id == first.event_id
    assert talking.state is CallState.TALKING
    assert talking.direction is Direction.OUTGOING
    assert talking.actions == TALKING_ACTIONS


async def test_a_dialled_call_waits_for_pickup(
    session: aiohttp.ClientSession,
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
) -> None:
    genesys.pickup_delay = None
    first = await client.async_dial(desk, {ARG_TO: TARGET})
    await genesys.wait_for_delivered()
    assert genesys.calls[first.call_id].state == "Dialing"
    assert [event.state for event in stream.of(first.call_id)] == [CallState.DIALING]
    root = genesys.base_url.rsplit("/api", 1)[0]
    async with session.post(
        f"{root}/_sim/pickup", json={"call_id": first.call_id}
    ) as reply:
        assert reply.status == 200
        assert await reply.json() == {"result": "ok"}
    await genesys.wait_for_delivered()
    assert stream.of(first.call_id)[-1].state is CallState.TALKING
    # Answering twice is a mistake of the test, said as a 400.
    async with session.post(
        f"{root}/_sim/pickup", json={"call_id": first.call_id}
    ) as again:
        assert again.status == 400


async def test_a_dialled_call_the_far_end_does_not_answer(
    client: GenesysClient,
    genesys: GenesysSimulator,
    stream: Listener,
    desk: Device,
) -> None:
    genesys.pickup_delay = None
    first = await client.async_dial(desk, {ARG_TO: TARGET})
    await client.async_perform(
        CallAction.HANGUP,
        Call(first.call_id, first.device_ids, Direction.OUTGOING, CallState.DIALING),
        desk,
        {},
    )
    await genesys.wait_for_delivered()
    ended = stream.of(first.call_id)[-1]
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.COMPLETED


async def test_dial_without_the_stream_finds_its_call_in_the_call_list(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    desk_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(genesys_module, "DIAL_TIMEOUT", 0.05)
    genesys.pickup_delay = None
    incoming = genesys.ring(desk_id, CALLER)
    await client.async_get_devices()
    await client.async_list_calls()  # the ringing call is known: not the dial's
    first = await client.async_dial(desk, {ARG_TO: TARGET})
    assert first.call_id != incoming
    assert first.call_id in genesys.calls
    assert first.state is CallState.DIALING
    assert first.direction is Direction.OUTGOING
    assert first.device_ids == (desk_id,)
    assert (genesys.requests[-1].method, genesys.requests[-1].path) == (
        "GET",
        "/api/v2/me/calls",
    )


async def test_a_call_ringing_in_meanwhile_is_not_the_dialled_one(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    desk_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(genesys_module, "DIAL_TIMEOUT", 0.05)
    genesys.pickup_delay = None
    await client.async_get_devices()
    # Never seen before the dial: the call list shows both for the first time.
    incoming = genesys.ring(desk_id, CALLER)
    first = await client.async_dial(desk, {ARG_TO: TARGET})
    assert first.call_id != incoming
    assert genesys.calls[first.call_id].state == "Dialing"
    assert first.remote_number == TARGET


async def test_a_dial_that_places_no_call_is_an_error_not_worth_retrying(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(genesys_module, "DIAL_TIMEOUT", 0.05)
    genesys.fail_next(200, body='{"statusCode": 0}', path_contains="/me/devices/")
    with pytest.raises(ProviderError, match="reported no call") as raised:
        await client.async_dial(desk, {ARG_TO: TARGET})
    # Not ProviderUnavailableError: a retry could place a second call.
    assert type(raised.value) is ProviderError
    assert genesys.calls == {}


async def test_a_dial_whose_call_list_fails_is_not_retried(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(genesys_module, "DIAL_TIMEOUT", 0.05)
    genesys.pickup_delay = None
    genesys.fail_next(503, path_contains="/me/calls")
    with pytest.raises(ProviderError, match="could not be found") as raised:
        await client.async_dial(desk, {ARG_TO: TARGET})
    assert type(raised.value) is ProviderError
    assert len(genesys.calls) == 1


async def test_dial_from_a_device_gws_does_not_know(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    stranger = Device("no-such-device", "5999", "Agent device", "5999")
    with pytest.raises(ProviderError, match="does not know the device 5999") as raised:
        await client.async_dial(stranger, {ARG_TO: TARGET})
    assert not isinstance(raised.value, CallNotFoundError)
    assert genesys.requests[-1].path == "/api/v2/me/devices/no-such-device/calls"


@pytest.mark.parametrize(
    ("status", "status_code", "error"),
    [
        (400, 2, ActionNotAllowedError),
        (403, 5, PermissionDeniedError),
        (503, None, ProviderUnavailableError),
        (400, 1, ProviderError),
    ],
)
async def test_dial_errors_map_to_the_model(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: Device,
    status: int,
    status_code: int | None,
    error: type[ProviderError],
) -> None:
    genesys.fail_next(status, status_code=status_code, path_contains="/me/devices/")
    with pytest.raises(error) as raised:
        await client.async_dial(desk, {ARG_TO: TARGET})
    assert type(raised.value) is error
    assert genesys.calls == {}


# --- the simulator's documented refusals of bad bodies ---


@pytest.mark.parametrize(
    ("path", "body", "status_code"),
    [
        ("/me/calls/{call}", {"operationName": "SingleStepTransfer"}, 1),
        (
            "/me/calls/{call}",
            {"operationName": "SingleStepTransfer", "destination": {"phoneNumber": ""}},
            1,
        ),
        (
            "/me/calls/{call}",
            {
                "operationName": "SingleStepTransfer",
                "destination": {"phoneNumber": "15002"},
                "userData": ["not", "an", "object"],
            },
            10,
        ),
        ("/me/calls/{call}", {"operationName": "SendDtmf"}, 1),
        ("/me/calls/{call}", {"operationName": "SendDtmf", "digits": "1x"}, 10),
        ("/me/calls/{call}", {"operationName": "SendDtmf", "digits": 5}, 10),
        ("/me/calls/{call}", {"operationName": "ExplodeCall"}, 2),
        ("/me/devices/{device}/calls", {"operationName": "Dial"}, 1),
        ("/me/devices/{device}/calls", {"operationName": "MakeCall"}, 1),
        (
            "/me/devices/{device}/calls",
            {
                "operationName": "Dial",
                "destination": {"phoneNumber": TARGET},
                "location": 7,
            },
            10,
        ),
    ],
)
async def test_the_simulator_refuses_malformed_commands(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk_id: str,
    path: str,
    body: dict[str, Any],
    status_code: int,
) -> None:
    call_id = genesys.ring(desk_id, CALLER)
    genesys.answer(call_id)
    with pytest.raises(ProviderError, match=f"statusCode {status_code}\\)"):
        await client._request(
            "POST", path.format(call=call_id, device=desk_id), body=body
        )
    assert genesys.calls[call_id].state == "Established"
    assert genesys.calls[call_id].operations == []
    assert genesys.calls[call_id].transferred_to is None
    assert len(genesys.calls) == 1


# --- options ---


@pytest.mark.parametrize(
    ("action", "options", "option", "reason"),
    [
        (CallAction.TRANSFER, {}, ARG_TO, "is required"),
        (CallAction.DIAL, {"location": "Site-A"}, ARG_TO, "is required"),
        (CallAction.SEND_DIGITS, {}, ARG_DIGITS, "is required"),
        (CallAction.TRANSFER, {ARG_VOICEMAIL: True}, ARG_VOICEMAIL, "no divert"),
        (
            CallAction.TRANSFER,
            {ARG_TO: "15002", ARG_VOICEMAIL: "yes"},
            ARG_VOICEMAIL,
            "no divert",
        ),
        (CallAction.TRANSFER, {ARG_TO: ""}, ARG_TO, "must be a number or DN"),
        (CallAction.TRANSFER, {ARG_TO: "   "}, ARG_TO, "must be a number or DN"),
        (CallAction.DIAL, {ARG_TO: 15002}, ARG_TO, "must be a number or DN"),
        (CallAction.DIAL, {ARG_TO: "1" * 65}, ARG_TO, "must be a number or DN"),
        (CallAction.DIAL, {ARG_TO: "150\n02"}, ARG_TO, "must be a number or DN"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "12a"}, ARG_DIGITS, "must be 1 to 32"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: ""}, ARG_DIGITS, "must be 1 to 32"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: 5}, ARG_DIGITS, "must be 1 to 32"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "1" * 33}, ARG_DIGITS, "must be 1"),
        (
            CallAction.TRANSFER,
            {ARG_TO: "15002", "user_data": {"nested": {"a": 1}}},
            "user_data",
            "must be an object",
        ),
        (
            CallAction.DIAL,
            {ARG_TO: "15002", "user_data": {"flag": True}},
            "user_data",
            "must be an object",
        ),
        (
            CallAction.DIAL,
            {ARG_TO: "15002", "user_data": "Product=Guitars"},
            "user_data",
            "must be an object",
        ),
        (CallAction.DIAL, {ARG_TO: "15002", "location": ""}, "location", "must be"),
        # Genesys plays nothing: a URL is an option no action takes.
        (
            CallAction.TRANSFER,
            {ARG_TO: "15002", ARG_URL: "https://example.com/a.wav"},
            ARG_URL,
            "no such option",
        ),
        (CallAction.PLAY, {ARG_URL: "not a url"}, ARG_URL, "no such option"),
        (CallAction.SPEAK, {ARG_MESSAGE: "Hello"}, ARG_MESSAGE, "no such option"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "1", ARG_TO: "2"}, ARG_TO, "no such"),
        (CallAction.HOLD, {"music": "on"}, "music", "no such option"),
        (CallAction.RESUME, {ARG_TO: "15002"}, ARG_TO, "no such option"),
    ],
)
def test_options_are_checked(
    client: GenesysClient,
    action: CallAction,
    options: dict[str, Any],
    option: str,
    reason: str,
) -> None:
    with pytest.raises(InvalidOptionError) as raised:
        client.validate_options(action, options)
    assert raised.value.option == option
    assert reason in raised.value.reason


def test_good_options_pass(client: GenesysClient) -> None:
    transfer = {
        ARG_TO: "+1 555 0100",
        ARG_VOICEMAIL: False,
        "location": "Site-A",
        "user_data": {"Case": 4711, "Reason": "Sales"},
    }
    assert client.validate_options(CallAction.TRANSFER, transfer) == transfer
    assert client.validate_options(CallAction.DIAL, {ARG_TO: "5001"}) == {
        ARG_TO: "5001"
    }
    assert client.validate_options(
        CallAction.SEND_DIGITS, {ARG_DIGITS: "0123456789*#"}
    ) == {ARG_DIGITS: "0123456789*#"}
    assert client.validate_options(CallAction.HOLD, {}) == {}
    assert client.validate_options(CallAction.RESUME, {}) == {}


# --- capabilities, and digits the caller presses ---


@pytest.mark.parametrize(
    ("state", "capabilities", "actions"),
    [
        (
            "Established",
            ["single-step-transfer", "SendDTMF", "HOLD", "Hangup"],
            TALKING_ACTIONS,
        ),
        ("Held", ["Retrieve", "SingleStepTransfer", "HangUp"], HELD_ACTIONS),
        # SendDtmf while held or dialing is not offered.
        ("Held", ["Retrieve", "SendDtmf"], frozenset({CallAction.RESUME})),
        ("Dialing", ["SendDtmf", "Hangup"], frozenset({CallAction.HANGUP})),
        ("Established", ["InitiateTransfer", "Reject", 7, None], frozenset()),
    ],
)
def test_capabilities_fill_the_actions(
    client: GenesysClient,
    state: str,
    capabilities: list[Any],
    actions: frozenset[CallAction],
) -> None:
    [event] = client.parse_message(
        message({"id": "c1", "state": state, "capabilities": capabilities})
    )
    assert event.actions == actions


async def test_pressed_keys_cannot_be_simulated(
    session: aiohttp.ClientSession, genesys: GenesysSimulator, desk_id: str
) -> None:
    call_id = genesys.ring(desk_id, CALLER)
    genesys.answer(call_id)
    published = len(genesys.published)
    root = genesys.base_url.rsplit("/api", 1)[0]
    async with session.post(
        f"{root}/_sim/press", json={"call_id": call_id, "digits": "1"}
    ) as reply:
        assert reply.status == 409
        assert reply.content_type == "text/plain"
        assert "reports no keys the caller presses" in await reply.text()
    # Nothing was sent: GWS has no message that could carry the keys.
    assert len(genesys.published) == published


@pytest.mark.parametrize(
    "data",
    [
        # Shapes other platforms use for pressed keys: GWS v2 has none, so
        # none is read as digits, and none breaks the parser.
        {"notificationType": "DtmfReceived", "digits": "1"},
        {"notificationType": "DtmfSent", "digits": ["1"], "dtmfDigits": {"a": 1}},
        {"notificationType": "DtmfSent", "digits": "\ud800", "dtmf": 10**40},
        {"notificationType": {"nested": "DtmfReceived"}, "digits": None},
    ],
)
def test_no_message_is_read_as_pressed_keys(
    client: GenesysClient, data: dict[str, Any]
) -> None:
    call = {"id": "c1", "state": "Established", "capabilities": ["SendDtmf"]}
    events = client.read_messages([message(call, **data), message(call, digits="9")])
    assert events
    for event in events:
        assert isinstance(event, CallEvent)
        assert event.digits is None
        assert event.state is CallState.TALKING
        json.dumps(event.raw, allow_nan=False)
    # A message without a call carries no keys either.
    assert client.parse_message({"data": {"notificationType": "DtmfReceived"}}) == []

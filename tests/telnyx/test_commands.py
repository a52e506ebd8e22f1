"""Beyond answering on Telnyx: transfer, dial, speak, play, send and receive digits.

Each command goes to the simulator over loopback HTTP; the simulator's signed
webhooks come back to a receiver on loopback and are read by the client, as
Home Assistant's webhook would read them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
import time
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.switchboard.providers.model import (
    ActionNotAllowedError,
    AuthenticationError,
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
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from custom_components.switchboard.providers.telnyx import (
    DIALING_ACTIONS,
    TALKING_ACTIONS,
    TelnyxClient,
    validate_options,
)
from tests.const import CALLER, FRONT_DESK, KITCHEN
from tests.simulators.telnyx import SimRequest, TelnyxSimulator

OFFICE = "+15550100777"
FRIEND = "+15550100888"


class Receiver:
    """Home Assistant's side of the webhooks: keeps each delivery, answers 200."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.read = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.deliveries.append((dict(request.headers), await request.read()))
        return web.Response()


class Book:
    """The calls as the events tell them, as the CallBook keeps them (roughly)."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.digits: list[tuple[str, str]] = []
        self.events: list[CallEvent] = []

    def apply(self, events: list[CallEvent]) -> None:
        for event in events:
            self.events.append(event)
            if event.digits is not None:
                self.digits.append((event.call_id, event.digits))
                continue
            call = self.calls.setdefault(
                event.call_id,
                Call(
                    event.call_id,
                    event.device_ids,
                    event.direction or Direction.INCOMING,
                    event.state,
                ),
            )
            if call.state is CallState.ENDED:
                continue
            call.state = event.state
            call.device_ids = event.device_ids or call.device_ids
            call.direction = event.direction or call.direction
            call.remote_number = event.remote_number or call.remote_number
            call.end_reason = event.end_reason or call.end_reason
            if event.actions is not None:
                call.actions = event.actions
            call.raw.update(event.raw)


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def client(
    session: aiohttp.ClientSession, telnyx: TelnyxSimulator, application_id: str
) -> TelnyxClient:
    client = TelnyxClient(
        session,
        telnyx.api_key,
        public_key=telnyx.public_key_b64,
        application_id=application_id,
        base_url=telnyx.base_url,
        request_timeout=1,
    )
    await client.async_get_devices()
    return client


@pytest.fixture
async def receiver(
    telnyx: TelnyxSimulator, application_id: str
) -> AsyncGenerator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    telnyx.applications[application_id]["webhook_event_url"] = url
    yield receiver
    await runner.cleanup()


@pytest.fixture
def book() -> Book:
    return Book()


@pytest.fixture
async def desk(client: TelnyxClient) -> Device:
    devices = await client.async_get_devices()
    return next(device for device in devices if device.number == FRONT_DESK)


async def settle(
    telnyx: TelnyxSimulator, client: TelnyxClient, receiver: Receiver, book: Book
) -> list[CallEvent]:
    """Let every webhook arrive; read the new ones into the book; return them."""
    await telnyx.wait_for_webhooks()
    events: list[CallEvent] = []
    for headers, body in receiver.deliveries[receiver.read :]:
        events.extend(await client.async_parse_webhook(headers, body, time.time()))
    receiver.read = len(receiver.deliveries)
    book.apply(events)
    return events


async def answered_call(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> Call:
    """A call to the front desk, answered through the client."""
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    await settle(telnyx, client, receiver, book)
    options = validate_options(CallAction.ANSWER, {})
    await client.async_perform(CallAction.ANSWER, book.calls[call_id], desk, options)
    await settle(telnyx, client, receiver, book)
    call = book.calls[call_id]
    assert call.state is CallState.TALKING
    return call


def last_command(telnyx: TelnyxSimulator) -> SimRequest:
    return [r for r in telnyx.requests if r.method == "POST"][-1]


def new_leg(telnyx: TelnyxSimulator, call: Call) -> str:
    [leg] = [c for c in telnyx.calls.values() if c.transfer_of == call.call_id]
    return leg.call_control_id


# --- what Telnyx can do ---


def test_supported_actions_are_what_telnyx_documents(
    client: TelnyxClient,
) -> None:
    assert client.supported_actions == frozenset(
        {
            CallAction.ANSWER,
            CallAction.REJECT,
            CallAction.HANGUP,
            CallAction.TRANSFER,
            CallAction.SPEAK,
            CallAction.PLAY,
            CallAction.SEND_DIGITS,
            CallAction.DIAL,
        }
    )
    # No hold command for a call (only for conference participants).
    assert CallAction.HOLD not in client.supported_actions
    assert CallAction.RESUME not in client.supported_actions


@pytest.mark.parametrize("action", [CallAction.HOLD, CallAction.RESUME])
async def test_hold_and_resume_are_refused_unsent(
    telnyx: TelnyxSimulator, client: TelnyxClient, desk: Device, action: CallAction
) -> None:
    call = Call("v3:abc", (desk.device_id,), Direction.INCOMING, CallState.TALKING)
    with pytest.raises(ActionNotAllowedError, match="no"):
        await client.async_perform(action, call, desk, {})
    with pytest.raises(InvalidOptionError):
        validate_options(action, {"to": OFFICE})
    assert [r for r in telnyx.requests if r.method == "POST"] == []


# --- transfer ---


async def test_a_transfer_ends_the_call_here_once_the_new_leg_answers(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    telnyx.pickup_delay = None
    call = await answered_call(telnyx, client, receiver, book, desk)
    assert call.actions == TALKING_ACTIONS
    options = validate_options(
        CallAction.TRANSFER, {"to": OFFICE, "timeout_secs": 30, "voicemail": False}
    )
    await client.async_perform(CallAction.TRANSFER, call, desk, options)

    request = last_command(telnyx)
    assert request.path.endswith(f"/calls/{call.call_id}/actions/transfer")
    assert request.body == {
        "to": OFFICE,
        "timeout_secs": 30,
        "command_id": options["command_id"],
    }
    # Telnyx took the command and rings the office: the call is still ours.
    events = await settle(telnyx, client, receiver, book)
    leg = new_leg(telnyx, call)
    assert telnyx.calls[leg].from_ == FRONT_DESK  # the original call's `to`
    assert (
        telnyx.calls[leg].call_session_id == telnyx.calls[call.call_id].call_session_id
    )
    assert [d.event_type for d in telnyx.deliveries][-1] == "call.initiated"
    assert events == []
    assert book.calls[call.call_id].state is CallState.TALKING
    # No active call is shown for the new leg, nor does it show as dialing.
    listed = {event.call_id for event in await client.async_list_calls()}
    assert listed == {call.call_id}

    await telnyx.pickup(leg)
    events = await settle(telnyx, client, receiver, book)

    sent = [d.event_type for d in telnyx.deliveries][-3:]
    assert sorted(sent) == ["call.answered", "call.bridged", "call.bridged"]
    assert leg not in book.calls
    assert {event.call_id for event in events} == {call.call_id}
    left = book.calls[call.call_id]
    assert left.state is CallState.ENDED
    assert left.end_reason is EndReason.TRANSFERRED
    assert events[0].end_reason is EndReason.TRANSFERRED
    # Both legs live on at Telnyx, bridged, but neither is a call of ours.
    assert telnyx.calls[call.call_id].state == "answered"
    assert await client.async_list_calls() == []

    # When the caller hangs up, both legs end; nothing shows for the new leg.
    await telnyx.remote_hangup(call.call_id)
    events = await settle(telnyx, client, receiver, book)
    assert telnyx.calls[leg].state == "hangup"
    assert [(e.call_id, e.state, e.end_reason) for e in events] == [
        (call.call_id, CallState.ENDED, EndReason.TRANSFERRED)
    ]


async def test_transferred_calls_are_not_listed_after_a_restart(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
    session: aiohttp.ClientSession,
    application_id: str,
) -> None:
    """A client that saw nothing of the transfer reads both legs as bridged."""
    call = await answered_call(telnyx, client, receiver, book, desk)
    options = validate_options(CallAction.TRANSFER, {"to": OFFICE})
    await client.async_perform(CallAction.TRANSFER, call, desk, options)
    await settle(telnyx, client, receiver, book)
    talking = await telnyx.ring(KITCHEN, CALLER)
    telnyx.calls[talking].state = "answered"
    restarted = TelnyxClient(
        session,
        telnyx.api_key,
        application_id=application_id,
        base_url=telnyx.base_url,
    )
    await restarted.async_get_devices()

    listed = await restarted.async_list_calls()

    assert len([c for c in telnyx.calls.values() if c.state == "answered"]) == 3
    assert [event.call_id for event in listed] == [talking]


async def test_a_transfer_nobody_answers_leaves_the_call_on_the_device(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    telnyx.busy_numbers.add(OFFICE)
    call = await answered_call(telnyx, client, receiver, book, desk)
    transfer = validate_options(CallAction.TRANSFER, {"to": OFFICE})
    await client.async_perform(CallAction.TRANSFER, call, desk, transfer)

    events = await settle(telnyx, client, receiver, book)

    assert [d.event_type for d in telnyx.deliveries][-2:] == [
        "call.initiated",
        "call.hangup",
    ]
    assert telnyx.calls[new_leg(telnyx, call)].hangup_cause == "user_busy"
    assert events == []
    assert book.calls[call.call_id].state is CallState.TALKING
    # Telnyx: "The original call will remain active and may be issued
    # additional commands, potentially transferring the call elsewhere."
    again = validate_options(CallAction.TRANSFER, {"to": FRIEND})
    await client.async_perform(CallAction.TRANSFER, call, desk, again)
    await settle(telnyx, client, receiver, book)
    assert book.calls[call.call_id].end_reason is EndReason.TRANSFERRED


async def test_a_transfer_of_a_call_whose_session_is_unknown(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    """Without the session id, the new leg is known by the number it calls."""
    call = await answered_call(telnyx, client, receiver, book, desk)
    bare = Call(call.call_id, call.device_ids, call.direction, call.state)
    options = validate_options(CallAction.TRANSFER, {"to": f"{OFFICE},123"})
    await client.async_perform(CallAction.TRANSFER, bare, desk, options)

    events = await settle(telnyx, client, receiver, book)

    assert telnyx.calls[new_leg(telnyx, call)].to == OFFICE
    assert [(e.call_id, e.end_reason) for e in events if e.state is CallState.ENDED][
        :1
    ] == [(call.call_id, EndReason.TRANSFERRED)]
    assert {e.call_id for e in events} == {call.call_id}


async def test_a_transfer_telnyx_refuses_is_forgotten(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    bare = Call(call.call_id, call.device_ids, call.direction, call.state)
    telnyx.fail_next(503, path_contains="/actions/transfer")
    options = validate_options(CallAction.TRANSFER, {"to": OFFICE})
    with pytest.raises(ProviderUnavailableError):
        await client.async_perform(CallAction.TRANSFER, bare, desk, options)
    # A call to the same number later is a call of the device, not a new leg.
    telnyx.pickup_delay = None
    dial = validate_options(CallAction.DIAL, {"to": OFFICE})
    placed = await client.async_dial(desk, dial)

    await settle(telnyx, client, receiver, book)

    assert book.calls[placed.call_id].state is CallState.DIALING
    assert book.calls[call.call_id].state is CallState.TALKING


async def test_an_unanswered_outgoing_call_is_not_transferred(
    telnyx: TelnyxSimulator, client: TelnyxClient, desk: Device
) -> None:
    telnyx.pickup_delay = None
    placed = await client.async_dial(
        desk, validate_options(CallAction.DIAL, {"to": OFFICE})
    )
    call = Call(placed.call_id, (desk.device_id,), Direction.OUTGOING, placed.state)
    options = validate_options(CallAction.TRANSFER, {"to": FRIEND})
    with pytest.raises(ActionNotAllowedError, match="90034"):
        await client.async_perform(CallAction.TRANSFER, call, desk, options)


# --- dial ---


async def test_dial_places_a_call_that_dials_then_talks(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
    session: aiohttp.ClientSession,
    application_id: str,
) -> None:
    telnyx.pickup_delay = None
    options = validate_options(CallAction.DIAL, {"to": CALLER, "timeout_secs": 20})

    placed = await client.async_dial(desk, options)

    request = last_command(telnyx)
    assert (request.method, request.path) == ("POST", "/v2/calls")
    assert request.body == {
        "to": CALLER,
        "timeout_secs": 20,
        "command_id": options["command_id"],
        "connection_id": application_id,
        "from": FRONT_DESK,
    }
    assert placed.call_id in telnyx.calls
    assert placed.state is CallState.DIALING
    assert placed.direction is Direction.OUTGOING
    assert placed.device_ids == (desk.device_id,)
    assert (placed.remote_number, placed.local_number) == (CALLER, FRONT_DESK)
    assert placed.actions == DIALING_ACTIONS
    assert placed.order == (0.0, 0)
    book.apply([placed])
    await settle(telnyx, client, receiver, book)
    assert book.calls[placed.call_id].state is CallState.DIALING

    root = telnyx.base_url.removesuffix("/v2")
    async with session.post(
        f"{root}/_sim/pickup", json={"call_id": placed.call_id}
    ) as response:
        assert response.status == 200
    await settle(telnyx, client, receiver, book)

    call = book.calls[placed.call_id]
    assert call.state is CallState.TALKING
    assert call.actions == TALKING_ACTIONS
    # call.answered names no direction: the parties still read as outgoing.
    assert call.remote_number == CALLER
    assert call.device_ids == (desk.device_id,)


async def test_the_far_end_answers_by_itself(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    placed = await client.async_dial(
        desk, validate_options(CallAction.DIAL, {"to": CALLER})
    )
    await settle(telnyx, client, receiver, book)
    assert book.calls[placed.call_id].state is CallState.TALKING
    assert [d.event_type for d in telnyx.deliveries] == [
        "call.initiated",
        "call.answered",
    ]


async def test_a_busy_number_ends_the_dialed_call(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    telnyx.busy_numbers.add(CALLER)
    placed = await client.async_dial(
        desk, validate_options(CallAction.DIAL, {"to": CALLER})
    )
    await settle(telnyx, client, receiver, book)
    call = book.calls[placed.call_id]
    assert call.state is CallState.ENDED
    assert call.end_reason is EndReason.REJECTED


async def test_a_repeated_dial_is_one_call(
    telnyx: TelnyxSimulator, client: TelnyxClient, desk: Device
) -> None:
    telnyx.pickup_delay = None
    options = validate_options(CallAction.DIAL, {"to": CALLER})
    first = await client.async_dial(desk, options)
    second = await client.async_dial(desk, options)
    assert first.call_id == second.call_id
    assert len(telnyx.calls) == 1


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (401, None, AuthenticationError),
        (422, "10016", ProviderError),
        (429, "90103", RateLimitedError),
        (503, None, ProviderUnavailableError),
    ],
)
async def test_dial_errors_map_to_the_model(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    desk: Device,
    status: int,
    code: str | None,
    error: type[ProviderError],
) -> None:
    telnyx.fail_next(status, code=code, path_contains="/v2/calls")
    with pytest.raises(error) as raised:
        await client.async_dial(desk, validate_options(CallAction.DIAL, {"to": CALLER}))
    assert type(raised.value) is error
    assert telnyx.calls == {}


async def test_dial_from_a_device_without_a_number(client: TelnyxClient) -> None:
    with pytest.raises(ProviderError, match="no number"):
        await client.async_dial(Device("x", "Nowhere", "Phone number"), {"to": CALLER})


async def test_dial_with_an_unknown_application(
    session: aiohttp.ClientSession, telnyx: TelnyxSimulator, desk: Device
) -> None:
    client = TelnyxClient(
        session, telnyx.api_key, application_id="404", base_url=telnyx.base_url
    )
    with pytest.raises(ProviderError, match="connection_id"):
        await client.async_dial(desk, {"to": CALLER})


async def test_a_dial_answer_without_a_call_id_is_an_error(
    session: aiohttp.ClientSession, socket_enabled: None, desk: Device
) -> None:
    async def dial(request: web.Request) -> web.Response:
        del request
        return web.json_response({"data": "not a call"})

    app = web.Application()
    app.router.add_post("/v2/calls", dial)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/v2"
        client = TelnyxClient(session, "k", application_id="1", base_url=base_url)
        with pytest.raises(ProviderError, match="which call"):
            await client.async_dial(desk, {"to": CALLER})
    finally:
        await runner.cleanup()


# --- speak and play ---


async def test_speak_says_the_message_with_a_voice(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    options = validate_options(
        CallAction.SPEAK, {"message": "We are closed.", "language": "en-GB"}
    )
    await client.async_perform(CallAction.SPEAK, call, desk, options)

    request = last_command(telnyx)
    assert request.path.endswith(f"/calls/{call.call_id}/actions/speak")
    assert request.body == {
        "payload": "We are closed.",
        "language": "en-GB",
        "voice": "female",
        "command_id": options["command_id"],
    }
    events = await settle(telnyx, client, receiver, book)
    assert [d.event_type for d in telnyx.deliveries][-2:] == [
        "call.speak.started",
        "call.speak.ended",
    ]
    # Speech is no news of the call.
    assert events == []
    assert book.calls[call.call_id].state is CallState.TALKING


async def test_speak_in_a_voice_of_ones_choice_looping(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    options = validate_options(
        CallAction.SPEAK,
        {"message": "<speak>Hi</speak>", "voice": "AWS.Polly.Joanna-Neural"}
        | {"payload_type": "ssml", "loop": "infinity"},
    )
    await client.async_perform(CallAction.SPEAK, call, desk, options)
    assert last_command(telnyx).body["voice"] == "AWS.Polly.Joanna-Neural"
    await settle(telnyx, client, receiver, book)
    # An endless speech starts and never ends.
    assert [d.event_type for d in telnyx.deliveries][-1] == "call.speak.started"


async def test_play_plays_the_audio_url(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    url = "https://example.invalid/chime.mp3"
    options = validate_options(CallAction.PLAY, {"url": url, "loop": 2})
    await client.async_perform(CallAction.PLAY, call, desk, options)

    request = last_command(telnyx)
    assert request.path.endswith(f"/calls/{call.call_id}/actions/playback_start")
    assert request.body == {
        "audio_url": url,
        "loop": 2,
        "command_id": options["command_id"],
    }
    events = await settle(telnyx, client, receiver, book)
    played = [d.event_type for d in telnyx.deliveries][-2:]
    assert played == ["call.playback.started", "call.playback.ended"]
    assert events == []


@pytest.mark.parametrize(
    ("action", "options"),
    [
        (CallAction.SPEAK, {"message": "Hello"}),
        (CallAction.PLAY, {"url": "https://example.invalid/a.wav"}),
        (CallAction.SEND_DIGITS, {"digits": "1"}),
    ],
)
async def test_media_commands_wait_for_the_answer(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    desk: Device,
    action: CallAction,
    options: dict[str, Any],
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    call = Call(call_id, (desk.device_id,), Direction.INCOMING, CallState.RINGING)
    with pytest.raises(ActionNotAllowedError, match="90034"):
        await client.async_perform(
            action, call, desk, validate_options(action, options)
        )
    assert telnyx.calls[call_id].commands == []


@pytest.mark.parametrize(
    ("action", "options"),
    [
        (CallAction.TRANSFER, {"to": OFFICE}),
        (CallAction.SPEAK, {"message": "Hello"}),
        (CallAction.PLAY, {"url": "https://example.invalid/a.wav"}),
        (CallAction.SEND_DIGITS, {"digits": "1"}),
    ],
)
async def test_commands_on_ended_and_unknown_calls(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    desk: Device,
    action: CallAction,
    options: dict[str, Any],
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    await telnyx.remote_hangup(call_id)
    ended = Call(call_id, (desk.device_id,), Direction.INCOMING, CallState.TALKING)
    with pytest.raises(CallEndedError):
        await client.async_perform(
            action, ended, desk, validate_options(action, options)
        )
    unknown = Call("v3:nope", (desk.device_id,), Direction.INCOMING, CallState.TALKING)
    with pytest.raises(CallNotFoundError) as raised:
        await client.async_perform(
            action, unknown, desk, validate_options(action, options)
        )
    assert "90015" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (429, None, RateLimitedError),
        (500, None, ProviderUnavailableError),
        (403, None, ProviderError),
    ],
)
async def test_command_faults_map_to_the_model(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
    status: int,
    code: str | None,
    error: type[ProviderError],
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    telnyx.fail_next(status, code=code, path_contains="/actions/speak")
    with pytest.raises(error):
        await client.async_perform(
            CallAction.SPEAK,
            call,
            desk,
            validate_options(CallAction.SPEAK, {"message": "x"}),
        )
    assert [c["action"] for c in telnyx.calls[call.call_id].commands] == ["answer"]


@pytest.mark.parametrize(
    ("action", "body", "code"),
    [
        pytest.param(CallAction.SPEAK, {"voice": "female"}, "10004", id="no payload"),
        pytest.param(
            CallAction.SPEAK, {"message": "x", "language": "xx"}, "90013", id="language"
        ),
        pytest.param(CallAction.PLAY, {}, "10004", id="nothing to play"),
        pytest.param(CallAction.PLAY, {"url": "ftp://x/a.mp3"}, "10003", id="url"),
        pytest.param(CallAction.SEND_DIGITS, {"digits": "1x"}, "90014", id="digits"),
        pytest.param(
            CallAction.SEND_DIGITS,
            {"digits": "1", "duration_millis": 50},
            "90027",
            id="duration",
        ),
        pytest.param(CallAction.TRANSFER, {}, "10004", id="no destination"),
        pytest.param(
            CallAction.TRANSFER, {"to": OFFICE, "from": "bob"}, "10016", id="from"
        ),
    ],
)
async def test_bodies_telnyx_refuses(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
    action: CallAction,
    body: dict[str, Any],
    code: str,
) -> None:
    """What validate_options would refuse, sent anyway: Telnyx's own refusal."""
    call = await answered_call(telnyx, client, receiver, book, desk)
    with pytest.raises(ProviderError) as raised:
        await client.async_perform(action, call, desk, body)
    assert type(raised.value) is ProviderError
    assert f"code {code}" in str(raised.value)


# --- digits ---


async def test_send_digits_plays_keys_to_the_far_end(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    sent = len(telnyx.deliveries)
    options = validate_options(
        CallAction.SEND_DIGITS, {"digits": "1234#w5", "duration_millis": 250}
    )
    await client.async_perform(CallAction.SEND_DIGITS, call, desk, options)

    request = last_command(telnyx)
    assert request.path.endswith(f"/calls/{call.call_id}/actions/send_dtmf")
    assert request.body == {
        "digits": "1234#w5",
        "duration_millis": 250,
        "command_id": options["command_id"],
    }
    await settle(telnyx, client, receiver, book)
    # send_dtmf has no webhook.
    assert len(telnyx.deliveries) == sent


async def test_keys_the_caller_presses_are_digits(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
    session: aiohttp.ClientSession,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    root = telnyx.base_url.removesuffix("/v2")
    async with session.post(
        f"{root}/_sim/press", json={"call_id": call.call_id, "digits": "1#"}
    ) as response:
        assert response.status == 200

    events = await settle(telnyx, client, receiver, book)

    assert book.digits == [(call.call_id, "1"), (call.call_id, "#")]
    first = events[0]
    assert first.state is CallState.TALKING
    assert (first.device_ids, first.remote_number, first.actions) == ((), None, None)
    assert first.raw == {"event": "call.dtmf.received"}
    assert book.calls[call.call_id].state is CallState.TALKING


async def test_speak_with_gather_options_gathers_the_keys(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    options = validate_options(
        CallAction.SPEAK,
        {"message": "Press 1 to open.", "maximum_digits": 3, "valid_digits": "123"},
    )
    await client.async_perform(CallAction.SPEAK, call, desk, options)

    request = last_command(telnyx)
    assert request.path.endswith(f"/calls/{call.call_id}/actions/gather_using_speak")
    assert request.body == {
        "payload": "Press 1 to open.",
        "maximum_digits": 3,
        "valid_digits": "123",
        "voice": "female",
        "command_id": options["command_id"],
    }
    await telnyx.press(call.call_id, "12#")
    events = await settle(telnyx, client, receiver, book)

    sent = [d.event_type for d in telnyx.deliveries][-4:]
    assert sent == ["call.dtmf.received"] * 3 + ["call.gather.ended"]
    # Reported once, by the gather; the keys pressed one by one are not.
    assert book.digits == [(call.call_id, "12")]
    assert [event.raw["event"] for event in events] == ["call.gather.ended"]

    # Once the gather ended, keys are reported one by one again.
    await telnyx.press(call.call_id, "9")
    await settle(telnyx, client, receiver, book)
    assert book.digits[-1] == (call.call_id, "9")


async def test_a_gather_that_does_not_end_valid_says_nothing(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    options = validate_options(
        CallAction.SPEAK, {"message": "Press 1.", "valid_digits": "1"}
    )
    await client.async_perform(CallAction.SPEAK, call, desk, options)
    await telnyx.press(call.call_id, "7")
    await settle(telnyx, client, receiver, book)
    assert telnyx.deliveries[-1].event_type == "call.gather.ended"
    assert book.digits == []

    # A gather the caller hangs up on ends with status call_hangup.
    await client.async_perform(CallAction.SPEAK, call, desk, options)
    await telnyx.remote_hangup(call.call_id)
    await settle(telnyx, client, receiver, book)
    assert [d.event_type for d in telnyx.deliveries][-2:] == [
        "call.gather.ended",
        "call.hangup",
    ]
    assert book.digits == []
    assert book.calls[call.call_id].state is CallState.ENDED


async def test_a_refused_gather_leaves_keys_reported_one_by_one(
    telnyx: TelnyxSimulator,
    client: TelnyxClient,
    receiver: Receiver,
    book: Book,
    desk: Device,
) -> None:
    call = await answered_call(telnyx, client, receiver, book, desk)
    telnyx.fail_next(500, path_contains="/actions/gather_using_speak")
    options = validate_options(CallAction.SPEAK, {"message": "x", "maximum_digits": 1})
    with pytest.raises(ProviderUnavailableError):
        await client.async_perform(CallAction.SPEAK, call, desk, options)
    await telnyx.press(call.call_id, "5")
    await settle(telnyx, client, receiver, book)
    assert book.digits == [(call.call_id, "5")]


def envelope(event_type: str, payload: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": f"id-{event_type}",
                "occurred_at": "2026-11-21T10:00:00.000001Z",
                "payload": {"call_control_id": "v3:abc", **payload},
            },
            "meta": {"attempt": 1, "delivered_to": "https://example.invalid/hook"},
        }
    ).encode()


def signed(telnyx: TelnyxSimulator, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "telnyx-signature-ed25519": telnyx.sign(timestamp, body),
        "telnyx-timestamp": timestamp,
    }


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        pytest.param("call.dtmf.received", {}, id="no digit"),
        pytest.param("call.dtmf.received", {"digit": ""}, id="empty digit"),
        pytest.param("call.dtmf.received", {"digit": 5}, id="digit a number"),
        pytest.param("call.dtmf.received", {"digit": ["1"]}, id="digit a list"),
        pytest.param("call.dtmf.received", {"digit": "x"}, id="not a key"),
        pytest.param("call.dtmf.received", {"digit": "\ud800"}, id="surrogate"),
        pytest.param("call.gather.ended", {"digits": "1" * 129}, id="too many"),
        pytest.param("call.gather.ended", {"digits": None}, id="digits null"),
        pytest.param(
            "call.gather.ended", {"digits": "12", "status": "timeout"}, id="timeout"
        ),
        pytest.param(
            "call.gather.ended", {"digits": "12", "status": ["valid"]}, id="odd status"
        ),
    ],
)
async def test_hostile_digit_events_are_skipped(
    client: TelnyxClient,
    telnyx: TelnyxSimulator,
    event_type: str,
    payload: dict[str, Any],
) -> None:
    body = envelope(event_type, payload)
    assert client.parse_webhook(signed(telnyx, body), body, time.time()) == []


async def test_readable_digit_events(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    pressed = envelope("call.dtmf.received", {"digit": "#", "from": CALLER})
    [key] = client.parse_webhook(signed(telnyx, pressed), pressed, time.time())
    assert (key.call_id, key.digits, key.state) == ("v3:abc", "#", CallState.TALKING)
    gathered = envelope("call.gather.ended", {"digits": "0815", "status": "valid"})
    [keys] = client.parse_webhook(signed(telnyx, gathered), gathered, time.time())
    assert keys.digits == "0815"
    assert keys.order == key.order


# --- the simulator's control routes ---


async def test_control_routes_refuse_what_cannot_happen(
    telnyx: TelnyxSimulator, session: aiohttp.ClientSession
) -> None:
    ringing = await telnyx.ring(KITCHEN, CALLER)
    root = telnyx.base_url.removesuffix("/v2")
    for route, body in [
        ("press", {"call_id": ringing, "digits": "1"}),  # not answered
        ("pickup", {"call_id": ringing}),  # not an outgoing call
        ("press", {"call_id": "v3:nope", "digits": "1"}),
    ]:
        async with session.post(f"{root}/_sim/{route}", json=body) as response:
            assert response.status == 400, route
    telnyx.calls[ringing].state = "answered"
    async with session.post(
        f"{root}/_sim/press", json={"call_id": ringing, "digits": "1z"}
    ) as response:
        assert response.status == 400
    help_text = telnyx.help_text()
    assert "/_sim/pickup" in help_text
    assert "/_sim/press" in help_text
    assert "POST   /v2/calls\n" in help_text


# --- options ---


@pytest.mark.parametrize(
    ("action", "options", "field"),
    [
        (CallAction.TRANSFER, {}, "to"),
        (CallAction.TRANSFER, {"voicemail": True}, "voicemail"),
        (CallAction.TRANSFER, {"to": "the office"}, "to"),
        (CallAction.TRANSFER, {"to": "5550100"}, "to"),
        (CallAction.TRANSFER, {"to": f"{OFFICE},"}, "to"),
        (CallAction.TRANSFER, {"to": f"{OFFICE},12x"}, "to"),
        (CallAction.TRANSFER, {"to": OFFICE, "from": "office"}, "from"),
        (CallAction.TRANSFER, {"to": OFFICE, "timeout_secs": 4}, "timeout_secs"),
        (
            CallAction.TRANSFER,
            {"to": OFFICE, "webhook_url": "https://x"},
            "webhook_url",
        ),
        (
            CallAction.TRANSFER,
            {"to": OFFICE, "park_after_unbridge": "self"},
            "park_after_unbridge",
        ),
        (
            CallAction.TRANSFER,
            {"to": OFFICE, "audio_url": "https://x/a.mp3", "media_name": "a"},
            "media_name",
        ),
        (CallAction.DIAL, {}, "to"),
        (CallAction.DIAL, {"to": f"{OFFICE},1"}, "to"),
        (CallAction.DIAL, {"to": CALLER, "from": FRONT_DESK}, "from"),
        (CallAction.DIAL, {"to": CALLER, "time_limit_secs": 30}, "time_limit_secs"),
        (CallAction.SPEAK, {}, "message"),
        (CallAction.SPEAK, {"message": ""}, "message"),
        (CallAction.SPEAK, {"message": "x" * 3001}, "message"),
        (CallAction.SPEAK, {"message": "x", "language": "en"}, "language"),
        (CallAction.SPEAK, {"message": "x", "voice": ""}, "voice"),
        (CallAction.SPEAK, {"message": "x", "loop": 0}, "loop"),
        (CallAction.SPEAK, {"message": "x", "loop": True}, "loop"),
        (CallAction.SPEAK, {"message": "x", "loop": 2, "maximum_digits": 1}, "loop"),
        (
            CallAction.SPEAK,
            {"message": "x", "minimum_digits": 3, "maximum_digits": 2},
            "minimum_digits",
        ),
        (
            CallAction.SPEAK,
            {"message": "x", "terminating_digit": "##"},
            "terminating_digit",
        ),
        (CallAction.SPEAK, {"message": "x", "url": "https://x/a.mp3"}, "url"),
        (CallAction.PLAY, {}, "url"),
        (CallAction.PLAY, {"url": "ftp://example.invalid/a.mp3"}, "url"),
        (CallAction.PLAY, {"url": "https://x/a.mp3", "loop": 101}, "loop"),
        (CallAction.SEND_DIGITS, {}, "digits"),
        (CallAction.SEND_DIGITS, {"digits": "12x"}, "digits"),
        (CallAction.SEND_DIGITS, {"digits": "1" * 65}, "digits"),
        (
            CallAction.SEND_DIGITS,
            {"digits": "1", "duration_millis": 600},
            "duration_millis",
        ),
        (CallAction.SEND_DIGITS, {"digits": "1", "message": "x"}, "message"),
    ],
)
def test_invalid_options_name_the_field(
    action: CallAction, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOptionError) as raised:
        validate_options(action, options)
    assert raised.value.option == field
    assert raised.value.reason


def test_valid_options_pass_through() -> None:
    transfer = validate_options(
        CallAction.TRANSFER,
        {
            "to": "sip:front@example.sip.telnyx.com;secure=srtp",
            "voicemail": False,
            "from": FRONT_DESK,
            "from_display_name": "Front desk",
            "audio_url": "https://example.invalid/whisper.mp3",
            "target_leg_client_state": "aGk=",
            "mute_dtmf": "opposite",
            "record": "record-from-answer",
        },
    )
    assert "voicemail" not in transfer
    assert transfer["to"].startswith("sip:")
    assert transfer["command_id"]
    dial = validate_options(
        CallAction.DIAL,
        {"to": CALLER, "answering_machine_detection": "detect", "timeout_secs": 600},
    )
    assert dial["answering_machine_detection"] == "detect"
    speak = {"message": "Hallo", "language": "de-DE", "voice": "female"}
    assert validate_options(CallAction.SPEAK, speak | {"command_id": "c"}) == speak | {
        "command_id": "c"
    }
    assert validate_options(
        CallAction.PLAY, {"url": "http://x/a.wav", "loop": "infinity"}
    )
    assert validate_options(CallAction.SEND_DIGITS, {"digits": "0123456789ABCD*#wW"})

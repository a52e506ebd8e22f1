"""The Telnyx client against the simulator, over loopback HTTP."""

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
    CallNotFoundError,
    CallState,
    Device,
    Direction,
    EndReason,
    InvalidOptionError,
    InvalidPayloadError,
    InvalidSignatureError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from custom_components.switchboard.providers.telnyx import (
    TelnyxClient,
    load_public_key,
    validate_options,
)
from tests.const import CALLER, FRONT_DESK
from tests.simulators.telnyx import TelnyxSimulator

# The reference's test vector: Ed25519 seed 0x00..0x1f, not issued by Telnyx.
VECTOR_KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
VECTOR_TIMESTAMP = "1700000000"
VECTOR_BODY = (
    b'{"data":{"event_type":"call.initiated","id":"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",'
    b'"occurred_at":"2018-02-02T22:25:27.521992Z","payload":{"call_control_id":"v3:test",'
    b'"direction":"incoming","state":"parked"},"record_type":"event"},"meta":{"attempt":1,'
    b'"delivered_to":"http://example.com/webhooks"}}'
)
VECTOR_SIGNATURE = "naZKQ9BSh0s/JuuD49/tO2YgIYu+rgV7x3WXemrgYY2QoKAkdwDmAWlpSVmXKUlgfUMadXwO5MV3S747c+FVAA=="  # noqa: E501
VECTOR_HEADERS = {
    "Telnyx-Signature-Ed25519": VECTOR_SIGNATURE,
    "Telnyx-Timestamp": VECTOR_TIMESTAMP,
}


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(
    session: aiohttp.ClientSession, telnyx: TelnyxSimulator, application_id: str
) -> TelnyxClient:
    return TelnyxClient(
        session,
        telnyx.api_key,
        public_key=telnyx.public_key_b64,
        application_id=application_id,
        base_url=telnyx.base_url,
        request_timeout=1,
    )


def ringing_call(call_id: str) -> Call:
    return Call(
        call_id=call_id,
        device_ids=("desk",),
        direction=Direction.INCOMING,
        state=CallState.RINGING,
    )


DESK = Device("desk", FRONT_DESK, "Phone number", FRONT_DESK)


def signed(simulator: TelnyxSimulator, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "telnyx-signature-ed25519": simulator.sign(timestamp, body),
        "telnyx-timestamp": timestamp,
    }


def envelope(event_type: str, payload: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": f"id-{event_type}",
                "occurred_at": "2026-11-21T10:00:00.000001Z",
                "payload": payload,
            },
            "meta": {"attempt": 1, "delivered_to": "https://example.invalid/hook"},
        }
    ).encode()


# --- signatures ---


async def test_reference_test_vector_verifies(session: aiohttp.ClientSession) -> None:
    client = TelnyxClient(session, "k", public_key=VECTOR_KEY)
    events = client.parse_webhook(VECTOR_HEADERS, VECTOR_BODY, now=1_700_000_100)
    assert len(events) == 1
    assert events[0].call_id == "v3:test"
    assert events[0].state is CallState.RINGING
    assert events[0].direction is Direction.INCOMING


@pytest.mark.parametrize(
    ("headers", "body", "now"),
    [
        pytest.param(VECTOR_HEADERS, VECTOR_BODY, 1_700_000_301, id="stale"),
        pytest.param(VECTOR_HEADERS, VECTOR_BODY, 1_699_999_699, id="from the future"),
        pytest.param(
            VECTOR_HEADERS,
            VECTOR_BODY.replace(b"v3:test", b"v3:evil"),
            1_700_000_000,
            id="body changed",
        ),
        pytest.param(
            {**VECTOR_HEADERS, "Telnyx-Timestamp": "1700000001"},
            VECTOR_BODY,
            1_700_000_000,
            id="timestamp changed",
        ),
        pytest.param(
            {"Telnyx-Timestamp": VECTOR_TIMESTAMP},
            VECTOR_BODY,
            1_700_000_000,
            id="no signature",
        ),
        pytest.param(
            {**VECTOR_HEADERS, "Telnyx-Signature-Ed25519": "%%%"},
            VECTOR_BODY,
            1_700_000_000,
            id="not base64",
        ),
        pytest.param(
            {**VECTOR_HEADERS, "Telnyx-Timestamp": "soon"},
            VECTOR_BODY,
            1_700_000_000,
            id="bad timestamp",
        ),
    ],
)
async def test_forged_or_stale_webhooks_are_refused(
    session: aiohttp.ClientSession, headers: dict[str, str], body: bytes, now: float
) -> None:
    client = TelnyxClient(session, "k", public_key=VECTOR_KEY)
    with pytest.raises(InvalidSignatureError):
        client.parse_webhook(headers, body, now)


async def test_without_public_key_nothing_is_trusted(
    session: aiohttp.ClientSession,
) -> None:
    client = TelnyxClient(session, "k")
    with pytest.raises(InvalidSignatureError):
        client.parse_webhook(VECTOR_HEADERS, VECTOR_BODY, 1_700_000_000)


@pytest.mark.parametrize("key", ["not base64!", "AAAA", ""])
def test_public_key_must_be_32_bytes_of_base64(key: str) -> None:
    with pytest.raises(InvalidSignatureError):
        load_public_key(key)


# --- webhook payloads ---


async def test_webhook_events_map_to_the_model(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    await client.async_get_devices()
    common = {"call_control_id": "v3:abc", "connection_id": client.application_id}
    initiated = envelope(
        "call.initiated",
        {
            **common,
            "from": CALLER,
            "to": FRONT_DESK,
            "direction": "incoming",
            "state": "parked",
            "caller_id_name": "Ada",
            "start_time": "2026-11-21T10:00:00.000001Z",
        },
    )
    [ringing] = client.parse_webhook(signed(telnyx, initiated), initiated, time.time())
    assert ringing.state is CallState.RINGING
    assert ringing.remote_number == CALLER
    assert ringing.remote_name == "Ada"
    assert ringing.local_number == FRONT_DESK
    assert len(ringing.device_ids) == 1
    assert ringing.actions == frozenset(
        {CallAction.ANSWER, CallAction.REJECT, CallAction.HANGUP}
    )
    # Diagnostics keep the state and ids, not the parties.
    assert ringing.raw == {"event": "call.initiated", "state": "parked"}
    hangup = envelope(
        "call.hangup", {**common, "hangup_cause": "user_busy", "to": "sip:desk@example"}
    )
    [ended] = client.parse_webhook(signed(telnyx, hangup), hangup, time.time())
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.REJECTED
    assert len(ended.device_ids) == 2  # no number matched: every number of the app
    assert ended.order > ringing.order
    # The application's id is the entry's own: raw does not keep it per call.
    assert ended.raw == {"event": "call.hangup", "hangup_cause": "user_busy"}
    hold = envelope("call.hold", common)
    assert (
        client.parse_webhook(signed(telnyx, hold), hold, time.time())[0].state
        is CallState.ON_HOLD
    )
    dialing = envelope(
        "call.initiated",
        {**common, "direction": "outgoing", "from": FRONT_DESK, "to": CALLER},
    )
    [outgoing] = client.parse_webhook(signed(telnyx, dialing), dialing, time.time())
    assert outgoing.state is CallState.DIALING
    assert outgoing.remote_number == CALLER
    assert outgoing.actions == frozenset({CallAction.HANGUP})


async def test_answered_through_the_provider_interface(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    await client.async_get_devices()
    answered = envelope(
        "call.answered",
        {"call_control_id": "v3:abc", "from": CALLER, "to": FRONT_DESK},
    )
    [talking] = await client.async_parse_webhook(
        signed(telnyx, answered), answered, time.time()
    )
    assert talking.state is CallState.TALKING
    assert talking.actions == frozenset(
        {
            CallAction.HANGUP,
            CallAction.TRANSFER,
            CallAction.SPEAK,
            CallAction.PLAY,
            CallAction.SEND_DIGITS,
        }
    )
    assert client.validate_options(CallAction.REJECT, {})["cause"] == "CALL_REJECTED"


async def test_ignored_and_foreign_events_carry_no_news(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    speak = envelope("call.speak.ended", {"call_control_id": "v3:abc"})
    assert client.parse_webhook(signed(telnyx, speak), speak, time.time()) == []
    foreign = envelope(
        "call.initiated", {"call_control_id": "v3:abc", "connection_id": "other-app"}
    )
    assert client.parse_webhook(signed(telnyx, foreign), foreign, time.time()) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed json"),
        pytest.param(b'{"data": {}}', id="no event fields"),
        pytest.param(
            envelope("call.exploded", {"call_control_id": "v3:abc"}),
            id="unknown event type",
        ),
        pytest.param(envelope("call.answered", {"from": CALLER}), id="no call id"),
        pytest.param(envelope("call.answered", []), id="payload not an object"),  # type: ignore[arg-type]
    ],
)
async def test_unreadable_webhooks_are_refused(
    client: TelnyxClient, telnyx: TelnyxSimulator, body: bytes
) -> None:
    with pytest.raises(InvalidPayloadError):
        client.parse_webhook(signed(telnyx, body), body, time.time())


# --- REST ---


async def test_key_applications_and_numbers(client: TelnyxClient) -> None:
    await client.async_validate_key()
    [application] = await client.async_list_applications()
    assert application.name == "Front desk"
    account = await client.async_get_account()
    assert account.account_id == application.application_id
    devices = await client.async_get_devices()
    assert sorted(device.number or "" for device in devices) == [
        FRONT_DESK,
        "+15550100002",
    ]


async def test_many_applications_are_read_page_by_page(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    for index in range(300):
        telnyx.add_application(f"App {index}")
    applications = await client.async_list_applications()
    assert len(applications) == 301
    pages = [
        r for r in telnyx.requests if r.path.endswith("/call_control_applications")
    ]
    assert [r.query["page[number]"] for r in pages] == ["1", "2"]


async def test_wrong_key_is_an_authentication_error(
    session: aiohttp.ClientSession, telnyx: TelnyxSimulator
) -> None:
    client = TelnyxClient(session, "KEYwrong", base_url=telnyx.base_url)
    with pytest.raises(AuthenticationError):
        await client.async_validate_key()


async def test_restricted_key_falls_back_to_applications(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    telnyx.fail_next(403, path_contains="/balance")
    await client.async_validate_key()
    assert telnyx.requests[-1].path.endswith("/call_control_applications")


async def test_webhook_url_is_read_and_set(client: TelnyxClient) -> None:
    assert await client.async_get_webhook_url() is None
    await client.async_set_webhook_url("https://example.invalid/api/webhook/x")
    assert (
        await client.async_get_webhook_url() == "https://example.invalid/api/webhook/x"
    )


async def test_answer_sends_options_and_reaches_the_call(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    await client.async_set_webhook_url(None)
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    options = validate_options(CallAction.ANSWER, {"client_state": "aGVsbG8="})
    await client.async_perform(CallAction.ANSWER, ringing_call(call_id), DESK, options)
    answer = telnyx.calls[call_id].commands[-1]
    assert answer["action"] == "answer"
    assert answer["client_state"] == "aGVsbG8="
    assert answer["command_id"] == options["command_id"]
    assert telnyx.calls[call_id].state == "answered"
    assert await client.async_refresh_call(ringing_call(call_id)) is None
    await client.async_perform(CallAction.HANGUP, ringing_call(call_id), DESK, {})
    ended = await client.async_refresh_call(ringing_call(call_id))
    assert ended is not None
    assert ended.state is CallState.ENDED
    assert ended.raw["event"] == "status"
    assert ended.raw["is_alive"] is False


async def test_repeated_command_id_is_one_command(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    options = validate_options(CallAction.REJECT, {})
    assert options["cause"] == "CALL_REJECTED"
    for _ in range(2):
        await client.async_perform(
            CallAction.REJECT, ringing_call(call_id), DESK, options
        )
    assert [c["action"] for c in telnyx.calls[call_id].commands] == ["reject"]


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (401, None, AuthenticationError),
        (403, None, PermissionDeniedError),
        (404, None, CallNotFoundError),
        (422, "90018", CallEndedError),
        (422, "90015", CallNotFoundError),
        (422, "90034", ActionNotAllowedError),
        (422, "10015", ProviderError),
        (429, None, RateLimitedError),
        (500, None, ProviderUnavailableError),
        (503, None, ProviderUnavailableError),
    ],
)
async def test_errors_map_to_the_model(
    client: TelnyxClient,
    telnyx: TelnyxSimulator,
    status: int,
    code: str | None,
    error: type[ProviderError],
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    telnyx.fail_next(status, code=code)
    with pytest.raises(error) as raised:
        await client.async_perform(CallAction.ANSWER, ringing_call(call_id), DESK, {})
    assert type(raised.value) is error
    assert f"HTTP {status}" in str(raised.value)
    assert telnyx.calls[call_id].state == "parked"


async def test_rate_limit_carries_the_wait(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    telnyx.fail_next(429, retry_after=0.2)
    with pytest.raises(RateLimitedError) as raised:
        await client.async_validate_key()
    assert raised.value.retry_after == pytest.approx(0.2)


async def test_slow_answer_is_a_timeout(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    telnyx.slow_next(1.5)
    with pytest.raises(ProviderUnavailableError):
        await client.async_validate_key()


async def test_unreachable_provider(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    client = TelnyxClient(session, "k", base_url="http://127.0.0.1:9/v2")
    with pytest.raises(ProviderUnavailableError):
        await client.async_validate_key()


async def test_replies_the_simulator_cannot_give(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    replies = [
        # An HTML body from a proxy; an unreadable Retry-After gives way to
        # x-ratelimit-reset.
        web.Response(
            status=429,
            text="<html>busy</html>",
            headers={
                "Retry-After": "later",
                "x-ratelimit-reset": "7",
            },
        ),
        web.json_response(
            {"errors": [{"code": "90102", "title": "Not allowed"}]}, status=422
        ),
    ]

    async def handle(request: web.Request) -> web.Response:
        return replies.pop(0)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/v2"
        client = TelnyxClient(session, "k", base_url=base_url)
        with pytest.raises(RateLimitedError) as raised:
            await client.async_validate_key()
        assert str(raised.value) == "Telnyx error (HTTP 429)"
        assert raised.value.retry_after == 7.0
        with pytest.raises(ActionNotAllowedError) as refused:
            await client.async_perform(
                CallAction.ANSWER, ringing_call("v3:abc"), DESK, {}
            )
        assert str(refused.value) == "Not allowed (HTTP 422, code 90102)"
    finally:
        await runner.cleanup()


async def test_no_application_chosen(session: aiohttp.ClientSession) -> None:
    client = TelnyxClient(session, "k")
    with pytest.raises(ProviderError):
        await client.async_get_devices()


# --- options ---


@pytest.mark.parametrize(
    ("action", "options", "field"),
    [
        (CallAction.ANSWER, {"client_state": "not base64!"}, "client_state"),
        (CallAction.ANSWER, {"client_state": 5}, "client_state"),
        (CallAction.ANSWER, {"record": "always"}, "record"),
        (CallAction.ANSWER, {"record_max_length": 50000}, "record_max_length"),
        (CallAction.ANSWER, {"record_timeout_secs": -1}, "record_timeout_secs"),
        (CallAction.ANSWER, {"record_max_length": True}, "record_max_length"),
        (
            CallAction.ANSWER,
            {"record_custom_file_name": "x" * 41},
            "record_custom_file_name",
        ),
        (
            CallAction.ANSWER,
            {"send_silence_when_idle": "yes"},
            "send_silence_when_idle",
        ),
        (CallAction.ANSWER, {"preferred_codecs": "PCMU,MP3"}, "preferred_codecs"),
        (
            CallAction.ANSWER,
            {"sip_headers": [{"name": "X-Foo", "value": "1"}]},
            "sip_headers",
        ),
        (CallAction.ANSWER, {"custom_headers": [{"name": "X-Foo"}]}, "custom_headers"),
        (CallAction.ANSWER, {"sound_modifications": "high"}, "sound_modifications"),
        (CallAction.ANSWER, {"stream_url": ""}, "stream_url"),
        (CallAction.ANSWER, {"stream_track": "left"}, "stream_track"),
        (CallAction.ANSWER, {"webhook_url_method": "PUT"}, "webhook_url_method"),
        (
            CallAction.ANSWER,
            {"stream_bidirectional_sampling_rate": "fast"},
            "stream_bidirectional_sampling_rate",
        ),
        (CallAction.ANSWER, {"accepted_modalities": ["audio"]}, "accepted_modalities"),
        (CallAction.REJECT, {"cause": "NO_THANKS"}, "cause"),
        (CallAction.HANGUP, {"record": "record-from-answer"}, "record"),
    ],
)
def test_invalid_options_name_the_field(
    action: CallAction, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOptionError) as raised:
        validate_options(action, options)
    assert raised.value.option == field


def test_valid_answer_options_pass_through() -> None:
    options = {
        "billing_group_id": "f5586561-8ff0-4291-a0ac-84fe544797bd",
        "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d",
        "command_id": "891510ac-f3e4-11e8-af5b-de00688a4901",
        "custom_headers": [{"name": "X-Desk", "value": "front"}],
        "preferred_codecs": "G722,PCMU",
        "sip_headers": [{"name": "User-to-User", "value": "abc"}],
        "sound_modifications": {"pitch": 1.2},
        "stream_url": "wss://example.invalid/stream",
        "stream_track": "both_tracks",
        "stream_codec": "PCMU",
        "stream_bidirectional_mode": "rtp",
        "stream_bidirectional_codec": "G722",
        "stream_bidirectional_target_legs": "self",
        "stream_bidirectional_sampling_rate": 16000,
        "send_silence_when_idle": True,
        "webhook_url": "https://example.invalid/b",
        "webhook_url_method": "POST",
        "transcription": True,
        "transcription_config": {"transcription_engine": "B"},
        "record": "record-from-answer",
        "record_channels": "single",
        "record_format": "wav",
        "record_max_length": 600,
        "record_timeout_secs": 10,
        "record_track": "inbound",
        "record_trim": "trim-silence",
        "record_custom_file_name": "front-desk",
    }
    assert validate_options(CallAction.ANSWER, options) == options

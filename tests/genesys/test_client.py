"""The Genesys Web Services client against the simulator, over loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from datetime import UTC, datetime
import json
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.switchboard.providers import bayeux, genesys as genesys_module
from custom_components.switchboard.providers.genesys import (
    GenesysClient,
    normalize_base_url,
)
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
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from tests.fixtures.genesys import GENESYS_DESK, GENESYS_PUBLIC
from tests.simulators.genesys import GenesysSimulator

from .streaming import Listener, make_client, streaming

CALLER = "+15551234567"
DESK = Device("desk", GENESYS_DESK, "Agent device", GENESYS_DESK)

pytestmark = pytest.mark.usefixtures("quick")


@pytest.fixture
def desk(genesys: GenesysSimulator) -> str:
    return genesys.device_id(GENESYS_DESK)


@pytest.fixture
def public(genesys: GenesysSimulator) -> str:
    return genesys.device_id(GENESYS_PUBLIC)


@contextlib.asynccontextmanager
async def simulator(**options: Any) -> AsyncGenerator[GenesysSimulator]:
    """A simulator other than the fixture's, with the desk device."""
    sim = GenesysSimulator(**{"cometd_timeout": 1.0, "max_interval": 2.0, **options})
    sim.add_device(GENESYS_DESK)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()


def ringing(call_id: str, device_id: str = "desk") -> Call:
    return Call(
        call_id=call_id,
        device_ids=(device_id,),
        direction=Direction.INCOMING,
        state=CallState.RINGING,
    )


# --- account, devices, session ---


async def test_account_devices_and_session(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    account = await client.async_get_account()
    assert account.account_id == genesys.user_id
    assert account.name == "Kristi Sippola"
    devices = await client.async_get_devices()
    assert [(d.name, d.model, d.number) for d in devices] == [
        (GENESYS_DESK, "Agent device", GENESYS_DESK),
        (GENESYS_PUBLIC, "Agent device (public network)", GENESYS_PUBLIC),
    ]
    assert devices[0].device_id == genesys.device_id(GENESYS_DESK)
    assert all(
        r.headers["Authorization"].startswith("Basic ") for r in genesys.requests
    )
    assert genesys.requests[-1].query == {"fields": "*"}
    # The session cookie of the first reply went back with the second request.
    assert "JSESSIONID" in genesys.requests[1].headers["Cookie"]


async def test_account_name_falls_back_to_the_user_name(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with simulator(first_name="", last_name="") as sim:
        account = await make_client(session, sim).async_get_account()
    assert account.name == "ksippo"


@pytest.mark.parametrize("suffix", ["", "/", "/api/v2", "/api/v2/"])
async def test_base_url_with_context_path(
    session: aiohttp.ClientSession, socket_enabled: None, suffix: str
) -> None:
    async with simulator(context_path="/cloud-web") as sim:
        assert sim.base_url.endswith("/cloud-web")
        client = GenesysClient(
            session, sim.base_url + suffix, sim.username, sim.password
        )
        account = await client.async_get_account()
        assert account.account_id == sim.user_id
        assert sim.requests[-1].path == "/cloud-web/api/v2/me"


def test_base_url_is_normalized() -> None:
    assert normalize_base_url(" https://gws.example.com/API/V2/ ") == (
        "https://gws.example.com"
    )
    assert normalize_base_url("https://gws.example.com/cloud-web/") == (
        "https://gws.example.com/cloud-web"
    )


async def test_non_latin1_password_is_sent_as_utf8(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with simulator(password="пароль") as sim:
        client = make_client(session, sim)
        # The simulator decodes Latin-1 only, as older GWS builds do.
        with pytest.raises(AuthenticationError):
            await client.async_get_account()
        header = sim.requests[-1].headers["Authorization"]
    assert header == aiohttp.encode_basic_auth("ksippo", "пароль", "utf-8")


async def test_me_without_a_user(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    genesys.fail_next(200, body='{"statusCode": 0}')
    with pytest.raises(ProviderError, match="who the user is"):
        await client.async_get_account()


async def test_devices_are_read_tolerantly(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    devices = [
        {"phoneNumber": "no id"},
        "junk",
        {"id": "d1", "e164Number": "+15550100999"},
        {"id": "d2"},
    ]
    genesys.fail_next(200, body=json.dumps({"statusCode": 0, "devices": devices}))
    assert await client.async_get_devices() == [
        Device("d1", "+15550100999", "Agent device", "+15550100999"),
        Device("d2", "d2", "Agent device", None),
    ]


async def test_uris_instead_of_objects_are_an_error(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    # Reading "no calls" from a reply that lists none would end every call.
    genesys.fail_next(200, body='{"statusCode": 0, "uris": []}')
    with pytest.raises(ProviderError, match="did not list the calls"):
        await client.async_list_calls()


# --- calls over REST ---


async def test_snapshot_of_current_calls(
    client: GenesysClient, genesys: GenesysSimulator, desk: str, public: str
) -> None:
    desk_call = genesys.ring(desk, CALLER)
    public_call = genesys.ring(public, "+15557654321")
    # Before the devices are known, the local number is the call's DNIS.
    [first, second] = await client.async_list_calls()
    assert first.call_id == desk_call
    assert first.local_number == GENESYS_DESK
    await client.async_get_devices()
    by_call = {event.call_id: event for event in await client.async_list_calls()}
    ringing_desk = by_call[desk_call]
    assert ringing_desk.state is CallState.RINGING
    assert ringing_desk.direction is Direction.INCOMING
    assert ringing_desk.remote_number == CALLER
    assert ringing_desk.local_number == GENESYS_DESK
    assert ringing_desk.device_ids == (desk,)
    assert ringing_desk.actions == frozenset({CallAction.ANSWER, CallAction.HANGUP})
    assert ringing_desk.started_at is not None
    # Diagnostics keep the ids and the state, never the attached data.
    assert "userData" not in ringing_desk.raw
    assert not any(isinstance(v, dict | list) for v in ringing_desk.raw.values())
    assert ringing_desk.raw["event"] == "snapshot"
    assert ringing_desk.raw["id"] == desk_call
    # A Public network device: GWS offers no Answer.
    assert by_call[public_call].actions == frozenset({CallAction.HANGUP})
    assert by_call[public_call].local_number == GENESYS_PUBLIC
    assert second.event_id != by_call[public_call].event_id


async def test_answer_and_hang_up(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    await client.async_get_account()
    await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
    assert genesys.calls[call_id].state == "Established"
    post = genesys.requests[-1]
    assert post.body == {"operationName": "Answer"}
    assert post.headers["X-CSRF-TOKEN"]
    talking = await client.async_refresh_call(ringing(call_id))
    assert talking is not None
    assert talking.state is CallState.TALKING
    assert talking.actions is not None
    assert CallAction.HANGUP in talking.actions
    await client.async_perform(CallAction.HANGUP, ringing(call_id), DESK, {})
    assert genesys.calls[call_id].operations[-1] == {"operationName": "Hangup"}
    ended = await client.async_refresh_call(ringing(call_id))
    assert ended is not None
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.COMPLETED
    assert ended.order > talking.order
    # Never a contact-centre login or logout.
    assert genesys.contact_center_operations == []


async def test_refresh_of_a_call_nobody_answered(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    genesys.remote_hangup(call_id)
    ended = await client.async_refresh_call(ringing(call_id))
    assert ended is not None
    assert ended.end_reason is EndReason.MISSED
    genesys.fail_next(404, body="")  # a 404 without a GWS envelope
    gone = await client.async_refresh_call(ringing(call_id))
    assert gone is not None
    assert gone.state is CallState.ENDED


async def test_refresh_reads_a_bare_call_or_nothing(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    genesys.fail_next(200, body=json.dumps(genesys.call_resource(call_id)))
    bare = await client.async_refresh_call(ringing(call_id))
    assert bare is not None
    assert bare.state is CallState.RINGING
    genesys.fail_next(200, body='{"statusCode": 0}')
    assert await client.async_refresh_call(ringing(call_id)) is None


async def test_reject_is_not_a_genesys_operation(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    assert CallAction.REJECT not in client.supported_actions
    with pytest.raises(ActionNotAllowedError, match="no Reject"):
        await client.async_perform(CallAction.REJECT, ringing(call_id), DESK, {})
    assert genesys.requests == []


def test_options_are_refused(client: GenesysClient) -> None:
    assert client.validate_options(CallAction.ANSWER, {}) == {}
    with pytest.raises(InvalidOptionError) as raised:
        client.validate_options(CallAction.HANGUP, {"reason": "busy"})
    assert raised.value.option == "reason"


async def test_answer_on_a_public_network_device_is_refused(
    client: GenesysClient, genesys: GenesysSimulator, public: str
) -> None:
    call_id = genesys.ring(public, CALLER)
    with pytest.raises(ActionNotAllowedError, match="statusCode 2"):
        await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
    assert genesys.calls[call_id].state == "Ringing"


@pytest.mark.parametrize(
    ("status", "status_code", "body", "error"),
    [
        (401, None, None, AuthenticationError),
        (200, 20, None, AuthenticationError),
        (403, 3, None, PermissionDeniedError),
        (403, 5, None, PermissionDeniedError),
        (404, 6, None, CallEndedError),
        (400, 2, None, ActionNotAllowedError),
        (500, 4, None, ProviderUnavailableError),
        (200, 4, None, ProviderUnavailableError),
        (503, None, None, ProviderUnavailableError),
        (400, 1, None, ProviderError),
        (200, 7, None, ProviderError),
        (403, None, "Forbidden by policy", PermissionDeniedError),
        (404, None, "", CallNotFoundError),
        (429, None, None, RateLimitedError),
        (418, None, "<html>teapot</html>", ProviderError),
        (599, None, "", ProviderUnavailableError),
    ],
)
async def test_errors_map_to_the_model(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: str,
    status: int,
    status_code: int | None,
    body: str | None,
    error: type[ProviderError],
) -> None:
    call_id = genesys.ring(desk, CALLER)
    await client.async_get_account()
    genesys.fail_next(status, status_code=status_code, body=body)
    with pytest.raises(error) as raised:
        await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
    assert type(raised.value) is error
    assert f"HTTP {status}" in str(raised.value)
    assert genesys.password not in str(raised.value)
    assert genesys.calls[call_id].state == "Ringing"


async def test_status_message_and_retry_after_are_kept(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    genesys.fail_next(400, status_code=1, message="operationName is missing.")
    with pytest.raises(ProviderError, match=r"operationName is missing\. \(HTTP 400"):
        await client.async_get_account()
    genesys.fail_next(429, retry_after=1.5)
    with pytest.raises(RateLimitedError) as raised:
        await client.async_get_account()
    assert raised.value.retry_after == 1.5
    genesys.fail_next(429, message="slow down", retry_after=None)
    with pytest.raises(RateLimitedError) as without:
        await client.async_get_account()
    assert without.value.retry_after is None
    genesys.fail_next(200, body="not json")
    with pytest.raises(ProviderUnavailableError, match="invalid JSON"):
        await client.async_get_account()


async def test_unreadable_retry_after(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    genesys.fail_next(429, retry_after="soon")
    with pytest.raises(RateLimitedError) as raised:
        await client.async_get_account()
    assert raised.value.retry_after is None


async def test_expired_csrf_token_is_renewed_once(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    await client.async_get_account()
    genesys.invalidate_csrf()
    await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
    assert genesys.calls[call_id].state == "Established"
    assert [(r.method, r.path) for r in genesys.requests[-3:]] == [
        ("POST", f"/api/v2/me/calls/{call_id}"),
        ("GET", "/api/v2/me"),
        ("POST", f"/api/v2/me/calls/{call_id}"),
    ]


async def test_first_post_fetches_the_csrf_token(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
    assert "X-CSRF-TOKEN" not in genesys.requests[0].headers
    assert genesys.calls[call_id].state == "Established"


async def test_csrf_refused_twice_is_final(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    genesys.fail_next(
        403, body="Missing or invalid Csrf token", count=2, path_contains="/me/calls/"
    )
    with pytest.raises(PermissionDeniedError, match="Csrf"):
        await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})


async def test_without_csrf_protection(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with simulator(csrf=False) as sim:
        call_id = sim.ring(sim.device_id(GENESYS_DESK), CALLER)
        client = make_client(session, sim)
        await client.async_get_account()
        await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
        assert sim.calls[call_id].state == "Established"
        assert "X-CSRF-TOKEN" not in sim.requests[-1].headers


async def test_wrong_password(
    session: aiohttp.ClientSession, genesys: GenesysSimulator
) -> None:
    client = GenesysClient(session, genesys.base_url, genesys.username, "wrong")
    with pytest.raises(AuthenticationError, match="not authenticated"):
        await client.async_get_account()


async def test_slow_reply_is_a_timeout(
    client: GenesysClient, genesys: GenesysSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(genesys_module, "REQUEST_TIMEOUT", 0.1)
    genesys.slow_next(0.3)
    with pytest.raises(ProviderUnavailableError, match="cannot reach"):
        await client.async_get_account()


async def test_unreachable_server(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    client = GenesysClient(session, "http://127.0.0.1:9", "ksippo", "x")
    with pytest.raises(ProviderUnavailableError):
        await client.async_get_devices()


# --- the CometD stream ---


async def test_stream_follows_a_call(
    client: GenesysClient, genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    assert stream.connections == [True]
    call_id = genesys.ring(desk, CALLER)
    await genesys.wait_for_delivered()
    [ring] = stream.of(call_id)
    assert ring.state is CallState.RINGING
    assert ring.direction is Direction.INCOMING
    assert ring.remote_number == CALLER
    assert ring.local_number == GENESYS_DESK
    assert ring.device_ids == (desk,)
    assert ring.actions == frozenset({CallAction.ANSWER, CallAction.HANGUP})
    await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
    await genesys.wait_for_delivered()
    genesys.hold(call_id)
    genesys.retrieve(call_id)
    genesys.remote_hangup(call_id)
    await genesys.wait_for_delivered()
    events = stream.of(call_id)
    assert [event.state for event in events] == [
        CallState.RINGING,
        CallState.TALKING,
        CallState.ON_HOLD,
        CallState.TALKING,
        CallState.ENDED,
    ]
    assert events[-1].end_reason is EndReason.COMPLETED
    assert events[-1].actions == frozenset()
    assert [event.order for event in events] == sorted(event.order for event in events)
    assert len({event.event_id for event in events}) == len(events)
    assert all(
        r.headers.get("X-CSRF-TOKEN") for r in genesys.requests if r.method == "POST"
    )


async def test_a_call_nobody_answers_is_missed(
    genesys: GenesysSimulator, stream: Listener, public: str
) -> None:
    call_id = genesys.ring(public, CALLER)
    genesys.remote_hangup(call_id)
    await genesys.wait_for_delivered()
    ring, end = stream.of(call_id)
    assert ring.actions == frozenset({CallAction.HANGUP})
    assert end.end_reason is EndReason.MISSED


async def test_duplicate_messages_share_an_event_id(
    genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    genesys.duplicate_next()
    call_id = genesys.ring(desk, CALLER)
    await genesys.wait_for_delivered()
    first, second = stream.of(call_id)
    assert first.event_id == second.event_id


async def test_a_late_ring_cannot_reopen_an_answered_call(
    genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    genesys.hold_messages()
    call_id = genesys.ring(desk, CALLER)
    genesys.answer(call_id)
    genesys.release_messages(reverse=True)
    await genesys.wait_for_delivered()
    talking, ring = stream.of(call_id)
    assert talking.state is CallState.TALKING
    assert ring.state is CallState.RINGING
    assert ring.order < talking.order


async def test_snapshot_is_not_overtaken_by_older_messages(
    client: GenesysClient, genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    call_id = genesys.ring(desk, CALLER)
    genesys.answer(call_id)
    await genesys.wait_for_delivered()
    [snapshot] = await client.async_list_calls()
    assert snapshot.state is CallState.TALKING
    assert all(event.order < snapshot.order for event in stream.of(call_id))
    # The ring message delivered again, late: older than the snapshot.
    [late] = client.parse_message(genesys.published[0])
    assert late.order < snapshot.order
    genesys.hold(call_id)
    await genesys.wait_for_delivered()
    assert stream.of(call_id)[-1].order > snapshot.order


async def test_messages_without_ids(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with simulator(message_ids=False) as sim:
        client = make_client(session, sim)
        async with streaming(client) as listener:
            await sim.wait_for_connected()
            sim.duplicate_next()
            call_id = sim.ring(sim.device_id(GENESYS_DESK), CALLER)
            await sim.wait_for_delivered()
        first, second = listener.of(call_id)
    assert first.event_id == second.event_id
    assert "sha=" in first.event_id


async def test_older_builds_connid_and_string_participants(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with simulator(call_id_form="connid", participants_format="strings") as sim:
        client = make_client(session, sim)
        async with streaming(client) as listener:
            await sim.wait_for_connected()
            call_id = sim.ring(
                sim.device_id(GENESYS_DESK), CALLER, call_type="Internal"
            )
            await sim.wait_for_delivered()
            await client.async_perform(CallAction.ANSWER, ringing(call_id), DESK, {})
            await sim.wait_for_delivered()
        ring, talking = listener.of(call_id)
    assert call_id == sim.calls[call_id].conn_id
    # An internal call has no ani: the caller is the other participant.
    assert ring.remote_number == CALLER
    assert ring.direction is Direction.INCOMING
    assert talking.direction is Direction.INCOMING  # remembered from the ring


async def test_outbound_call(
    genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    call_id = genesys.dial(desk, "+15557654321")
    genesys.remote_answer(call_id)
    await genesys.wait_for_delivered()
    dialing, talking = stream.of(call_id)
    assert dialing.state is CallState.DIALING
    assert dialing.direction is Direction.OUTGOING
    assert dialing.remote_number == "+15557654321"
    assert dialing.actions == frozenset({CallAction.HANGUP})
    assert talking.state is CallState.TALKING


async def test_device_messages_and_errors_carry_no_calls(
    genesys: GenesysSimulator,
    stream: Listener,
    desk: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    genesys.set_agent_state(desk, "NotReady")
    genesys.publish_error("Invalid state for Answer")
    await genesys.wait_for_delivered()
    assert stream.events == []
    assert "Invalid state for Answer" in caplog.text


async def test_a_failing_listener_does_not_stop_the_stream(
    client: GenesysClient,
    genesys: GenesysSimulator,
    desk: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[CallEvent] = []

    def on_events(events: list[CallEvent]) -> None:
        seen.extend(events)
        if len(seen) == 1:
            raise RuntimeError("listener bug")

    task = asyncio.create_task(client.async_stream(on_events, lambda _up: None))
    await genesys.wait_for_connected()
    genesys.ring(desk, CALLER)
    await genesys.wait_for_delivered()
    genesys.ring(desk, "+15557654321")
    await genesys.wait_for_delivered()
    await client.async_stop()
    await task
    assert len(seen) == 2
    assert "could not be handled" in caplog.text


async def test_reconnect_after_a_dropped_connection(
    genesys: GenesysSimulator,
    stream: Listener,
    desk: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    genesys.drop_connections()
    call_id = genesys.ring(desk, CALLER)
    await stream.wait_for(lambda: stream.connections == [True, False, True])
    await genesys.wait_for_delivered()
    # The server kept the session: no new handshake, nothing lost.
    assert genesys.handshakes == 1
    assert [event.state for event in stream.of(call_id)] == [CallState.RINGING]
    assert "connection lost" in caplog.text
    assert "connected" in caplog.text
    assert genesys.password not in caplog.text


async def test_unknown_client_handshakes_again(
    genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    genesys.expire_clients()
    await genesys.wait_for_connected(handshakes=2)
    await stream.wait_for(lambda: stream.connections == [True, False, True])
    call_id = genesys.ring(desk, CALLER)
    await genesys.wait_for_delivered()
    assert len(stream.of(call_id)) == 1


async def test_outage_then_the_stream_returns(
    genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    genesys.go_offline()
    await stream.wait_for(lambda: stream.connections == [True, False])
    call_id = genesys.ring(desk, CALLER)
    genesys.go_online()
    await stream.wait_for(lambda: stream.connections == [True, False, True])
    await genesys.wait_for_delivered()
    assert [event.state for event in stream.of(call_id)] == [CallState.RINGING]


async def test_long_outage_loses_the_cometd_session(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with simulator(max_interval=0.1) as sim:
        client = make_client(session, sim)
        async with streaming(client) as listener:
            await sim.wait_for_connected()
            sim.go_offline()
            await listener.wait_for(lambda: listener.connections == [True, False])
            await asyncio.sleep(0.2)  # longer than maxInterval without a connect
            sim.go_online()
            await sim.wait_for_connected(handshakes=2)
            await listener.wait_for(lambda: listener.connections[-1])
        assert listener.connections == [True, False, True]


async def test_stale_csrf_on_cometd_renews_the_session(
    genesys: GenesysSimulator, stream: Listener, desk: str
) -> None:
    first_client = genesys.requests[-1].body[0]["clientId"]
    genesys.invalidate_csrf()
    genesys.ring(desk, CALLER)  # releases the pending connect
    await genesys.wait_for_connected(handshakes=2)
    await stream.wait_for(lambda: stream.connections == [True, False, True])
    gets = [r.path for r in genesys.requests if r.method == "GET"]
    assert gets.count("/api/v2/me") == 2
    # The session given up on was told to go, with the new CSRF token.
    [leave] = [r for r in genesys.requests if r.channels == ["/meta/disconnect"]]
    assert leave.body[0]["clientId"] == first_client
    call_id = genesys.ring(desk, CALLER)
    await genesys.wait_for_delivered()
    assert len(stream.of(call_id)) == 1


async def test_slow_connect_times_out_and_resumes(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bayeux, "CONNECT_MARGIN", 0.1)
    async with simulator(cometd_timeout=0.2) as sim:
        client = make_client(session, sim)
        async with streaming(client) as listener:
            await sim.wait_for_connected()
            sim.slow_next(0.5, channel="/meta/connect")
            await listener.wait_for(lambda: listener.connections == [True, False, True])
        assert sim.handshakes == 1


async def test_preparing_the_handshake_is_retried(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    genesys.fail_next(503, path_contains="/api/v2/me")
    async with streaming(client) as listener:
        await genesys.wait_for_connected()
    assert listener.connections == [True]
    assert [r.path for r in genesys.requests[:2]] == ["/api/v2/me", "/api/v2/me"]


async def test_stream_with_wrong_password_raises(
    session: aiohttp.ClientSession, genesys: GenesysSimulator
) -> None:
    client = GenesysClient(session, genesys.base_url, genesys.username, "wrong")
    with pytest.raises(AuthenticationError):
        await client.async_stream(lambda _events: None, lambda _up: None)


async def test_handshake_refused_for_good_raises(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    genesys.refuse_handshakes("none")
    with pytest.raises(AuthenticationError, match="refused the handshake"):
        await client.async_stream(lambda _events: None, lambda _up: None)


async def test_stop_leaves_the_session(
    client: GenesysClient, genesys: GenesysSimulator
) -> None:
    listener = Listener()
    task = asyncio.create_task(
        client.async_stream(listener.on_events, listener.on_connection)
    )
    await genesys.wait_for_connected()
    await client.async_stop()
    await task
    await genesys.wait_for_disconnected()
    assert genesys.requests[-1].channels == ["/meta/disconnect"]
    # A stopped client stays stopped.
    await client.async_stream(listener.on_events, listener.on_connection)
    assert genesys.requests[-1].channels == ["/meta/disconnect"]
    assert listener.connections == [True]


# --- reading messages ---


def message(call: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {
        "channel": "/v2/me/calls",
        "data": {
            "messageType": "CallStateChangeMessage",
            "notificationType": "StatusChange",
            "call": call,
            **data,
        },
    }


async def test_unreadable_messages_are_skipped(client: GenesysClient) -> None:
    for unreadable in (
        {"channel": "/v2/me/calls", "data": "text"},
        {"channel": "/v2/me/calls", "data": {"messageType": "CallStateChangeMessage"}},
        message({"state": "Ringing"}),  # no id of any form
        message({"id": "c1", "state": "Exploded"}),
        {"channel": "/v2/me/calls", "data": {"messageType": "Other", "call": {}}},
    ):
        assert client.parse_message(unreadable) == []


async def test_message_fields_are_read_tolerantly(
    client: GenesysClient, genesys: GenesysSimulator, desk: str
) -> None:
    await client.async_get_devices()
    [by_phone] = client.parse_message(
        message(
            {"id": "c1", "state": "Established", "capabilities": ["HangUp"]},
            phoneNumber=GENESYS_DESK,
            metrics={"eventProcessing": {"serverGenerationTimestamp": 1700000000}},
        )
    )
    assert by_phone.device_ids == (desk,)
    assert by_phone.actions == frozenset({CallAction.HANGUP})
    assert by_phone.event_id.endswith("at=1700000000")
    assert by_phone.direction is None
    [by_dnis] = client.parse_message(
        message({"id": "c2", "state": "Held", "dnis": GENESYS_DESK})
    )
    assert by_dnis.device_ids == (desk,)
    assert by_dnis.actions is None
    [anywhere] = client.parse_message(
        message({"id": "c3", "state": "Completed", "duration": "soon"})
    )
    assert anywhere.state is CallState.ENDED
    assert anywhere.actions == frozenset()
    assert anywhere.started_at is None
    assert len(anywhere.device_ids) == 2
    assert anywhere.end_reason is EndReason.COMPLETED


async def test_participants_in_both_formats(client: GenesysClient) -> None:
    [named] = client.parse_message(
        message(
            {
                "id": "c1",
                "state": "Ringing",
                "callType": "Inbound",
                "ani": "+15550001111",
                "participants": [
                    {"phoneNumber": "5005"},
                    {"digits": "+15550001111", "displayName": "Ada"},
                ],
            },
            phoneNumber="5005",
        )
    )
    assert (named.remote_number, named.remote_name) == ("+15550001111", "Ada")
    assert named.local_number == "5005"
    [old] = client.parse_message(
        message(
            {
                "id": "c2",
                "state": "Ringing",
                "callType": "Internal",
                "participants": [7, "1001"],
                "participantsInfo": [{}, {"name": "Bob"}],
            }
        )
    )
    assert (old.remote_number, old.remote_name) == ("1001", "Bob")
    [no_list] = client.parse_message(
        message({"id": "c3", "state": "Ringing", "participants": "5000"})
    )
    assert no_list.remote_number is None
    [only_us] = client.parse_message(
        message({"id": "c6", "state": "Ringing", "participants": ["5005"]}),
    )
    assert only_us.remote_number == "5005"
    [outbound] = client.parse_message(
        message(
            {"id": "c4", "state": "Dialing", "callType": "Outbound", "dnis": "15002"}
        )
    )
    assert outbound.remote_number == "15002"
    assert outbound.local_number is None
    [consult_out] = client.parse_message(
        message({"id": "c7", "state": "Dialing", "callType": "Consult"})
    )
    assert consult_out.direction is Direction.OUTGOING
    [consult] = client.parse_message(
        message(
            {
                "id": "c5",
                "state": "Established",
                "callType": "Consult",
                "ani": "15003",
                "participants": ["15009"],
            }
        )
    )
    assert (consult.remote_number, consult.remote_name) == ("15003", None)


async def test_both_id_forms_name_one_call(client: GenesysClient) -> None:
    [first] = client.parse_message(
        message({"id": "0071027192600001", "callUuid": "01RCC3N1", "state": "Ringing"})
    )
    [second] = client.parse_message(message({"id": "01RCC3N1", "state": "Released"}))
    assert first.call_id == second.call_id == "0071027192600001"
    assert second.end_reason is EndReason.MISSED
    [uuid_only] = client.parse_message(
        message({"callUuid": "01RCC3N2", "state": "Ringing"})
    )
    assert uuid_only.call_id == "01RCC3N2"


@pytest.mark.parametrize(
    ("direction", "answered", "reason"),
    [
        (Direction.INCOMING, False, EndReason.MISSED),
        (Direction.INCOMING, True, EndReason.COMPLETED),
        (Direction.OUTGOING, False, EndReason.COMPLETED),
    ],
)
async def test_a_call_the_server_forgot_has_ended(
    client: GenesysClient,
    genesys: GenesysSimulator,
    direction: Direction,
    answered: bool,
    reason: EndReason,
) -> None:
    call = Call("unknown-call", ("desk",), direction, CallState.TALKING)
    if answered:
        call.answered_at = datetime.now(UTC)
    gone = await client.async_refresh_call(call)
    assert gone is not None
    assert gone.state is CallState.ENDED
    assert gone.end_reason is reason
    assert genesys.requests[-1].path == "/api/v2/me/calls/unknown-call"


async def test_memory_of_calls_is_bounded(
    session: aiohttp.ClientSession,
    genesys: GenesysSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(genesys_module, "REMEMBERED_CALLS", 2)
    # The limit is read when the client is made.
    client = make_client(session, genesys)
    client.parse_message(
        message({"id": "first", "connId": "conn-1", "state": "Ringing"})
    )
    client.parse_message(message({"id": "second", "state": "Ringing"}))
    client.parse_message(message({"id": "third", "state": "Ringing"}))
    [aliased] = client.parse_message(message({"id": "conn-1", "state": "Ringing"}))
    # Too many calls since: the first call's connId is no longer known.
    assert aliased.call_id == "conn-1"

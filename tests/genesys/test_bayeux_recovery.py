"""Bayeux as the spec says, against the simulator: advice, unknown clients, outages.

These run with the client's real back-off (capped at a few seconds), so the
time the stream takes to come back is the client's own; bounds are asserted
on the loop clock, generously: they say how the client behaves, they do not
benchmark it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib
import itertools
import json
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.switchboard.providers import bayeux
from custom_components.switchboard.providers.bayeux import (
    BayeuxClient,
    StreamRefusedError,
)
from custom_components.switchboard.providers.genesys import (
    GenesysClient,
    basic_authorization,
)
from custom_components.switchboard.providers.model import (
    AuthenticationError,
    CallEvent,
    CallState,
    ProviderUnavailableError,
)
from tests.simulators.genesys import GenesysSimulator, SimRequest

HANDSHAKE = "/meta/handshake"
SUBSCRIBE = "/meta/subscribe"
CONNECT = "/meta/connect"
DESK = "5005"
CALLER = "+15551234567"
# The spec's bound: back within 5 s of a 3 s restart's end.
RESTART = 3.0
BACK_WITHIN = 5.0
# A handshake that follows the server's first answer at once takes a few
# loopback round trips; a back-off step would take at least FIRST_BACKOFF.
AT_ONCE = 0.3


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as client_session:
        yield client_session


@contextlib.asynccontextmanager
async def simulator(**options: Any) -> AsyncGenerator[GenesysSimulator]:
    sim = GenesysSimulator(**{"cometd_timeout": 1.0, "max_interval": 2.0, **options})
    sim.add_device(DESK)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()


def bayeux_client(
    session: aiohttp.ClientSession, sim: GenesysSimulator
) -> BayeuxClient:
    authorization = basic_authorization(sim.username, sim.password)
    return BayeuxClient(
        session,
        f"{sim.base_url}/api/v2/notifications",
        subscriptions=("/v2/me/calls",),
        headers=lambda: {"Authorization": authorization},
    )


class Watch:
    """What a running stream reported: connections and messages or events."""

    def __init__(self) -> None:
        self.connections: list[bool] = []
        self.messages: list[Any] = []
        self._changed = asyncio.Event()

    def on_messages(self, messages: list[Any]) -> None:
        self.messages.extend(messages)
        self._poke()

    def on_connection(self, up: bool) -> None:
        self.connections.append(up)
        self._poke()

    def _poke(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, condition: Callable[[], bool], limit: float = 8) -> None:
        async with asyncio.timeout(limit):
            while not condition():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

    def returned(self) -> bool:
        """Up again after a drop."""
        return len(self.connections) >= 3 and self.connections[-1]


@contextlib.asynccontextmanager
async def streaming_bayeux(client: BayeuxClient) -> AsyncGenerator[Watch]:
    watch = Watch()
    task = asyncio.create_task(client.run(watch.on_messages, watch.on_connection))
    try:
        yield watch
    finally:
        await client.stop()
        await task


@contextlib.asynccontextmanager
async def streaming_genesys(client: GenesysClient) -> AsyncGenerator[Watch]:
    watch = Watch()
    task = asyncio.create_task(
        client.async_stream(watch.on_messages, watch.on_connection)
    )
    try:
        yield watch
    finally:
        await client.async_stop()
        await task


def first(requests: list[SimRequest], channel: str, after: float) -> SimRequest:
    return next(r for r in requests if channel in r.channels and r.at >= after)


# --- outages and restarts ---


@pytest.mark.parametrize("csrf", [True, False], ids=["csrf", "no csrf"])
async def test_back_within_five_seconds_of_a_three_second_restart(
    session: aiohttp.ClientSession, socket_enabled: None, csrf: bool
) -> None:
    loop = asyncio.get_running_loop()
    async with simulator(csrf=csrf) as sim:
        client = GenesysClient(session, sim.base_url, sim.username, sim.password)
        await client.async_get_devices()
        async with streaming_genesys(client) as watch:
            await sim.wait_for_connected()
            await sim.restart(RESTART)
            back = loop.time()
            await watch.wait_for(watch.returned)
            elapsed = loop.time() - back
            assert elapsed < BACK_WITHIN
            # The restarted server knows neither the CometD client nor (with
            # CSRF) the HTTP session: its first answer (402, or a 403 for the
            # stale CSRF token) is followed by a new handshake at once.
            answered = next(r for r in sim.requests if r.at >= back - 0.01)
            assert answered.channels == [CONNECT]
            handshake = first(sim.requests, HANDSHAKE, back)
            assert handshake.at - answered.at < AT_ONCE
            assert sim.handshakes == 2
            call_id = sim.ring(sim.device_id(DESK), CALLER)
            await sim.wait_for_delivered()
        events: list[CallEvent] = watch.messages
        assert [e.state for e in events if e.call_id == call_id] == [CallState.RINGING]
        assert watch.connections == [True, False, True]


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        pytest.param("402::Unknown client", True, id="402 with advice"),
        pytest.param("402::Unknown client", False, id="402 without advice"),
        pytest.param("401::Authentication invalid", False, id="401 without advice"),
        pytest.param("403::Unknown client", False, id="403 without advice"),
    ],
)
async def test_unknown_client_after_an_outage_handshakes_at_once(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    error: str,
    advice: bool,
) -> None:
    # Each failed try during the outage waits a whole back-off step.
    monkeypatch.setattr(bayeux, "FIRST_BACKOFF", 0.6)
    monkeypatch.setattr(bayeux, "MAX_BACKOFF", 0.6)
    async with simulator(csrf=False) as sim:
        client = bayeux_client(session, sim)
        async with streaming_bayeux(client) as watch:
            await sim.wait_for_connected()
            sim.go_offline()
            sim.expire_clients(error=error, advice=advice)
            await watch.wait_for(lambda: watch.connections == [True, False])
            # One more try meets the outage (503): the advice of the last
            # good connect is long stale.
            tries = len(sim.requests)
            await watch.wait_for(lambda: len(sim.requests) > tries)
            sim.go_online()
            await watch.wait_for(watch.returned)
            refused = next(
                r
                for r in sim.requests[tries + 1 :]
                if r.channels == [CONNECT] and r.body[0]["clientId"]
            )
            handshake = first(sim.requests, HANDSHAKE, refused.at)
            assert handshake.at - refused.at < AT_ONCE
            sim.publish("/v2/me/calls", {"n": 1})
            await sim.wait_for_delivered()
        assert sim.handshakes == 2
        assert [m["data"] for m in watch.messages] == [{"n": 1}]


async def test_a_server_that_keeps_forgetting_the_client_is_backed_off(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Advice that did not work once is not followed in a tight loop.
    monkeypatch.setattr(bayeux, "FIRST_BACKOFF", 0.6)
    async with simulator(csrf=False) as sim:
        client = bayeux_client(session, sim)
        sim.fail_next(
            200,
            body=json.dumps(
                [
                    {
                        "channel": SUBSCRIBE,
                        "successful": False,
                        "error": "402::Unknown client",
                        "advice": {"reconnect": "handshake", "interval": 0},
                    }
                ]
            ),
            channel=SUBSCRIBE,
            count=2,
        )
        async with streaming_bayeux(client) as watch:
            await sim.wait_for_connected(handshakes=3)
            await watch.wait_for(lambda: watch.connections == [True])
        subscribes = [r.at for r in sim.requests if SUBSCRIBE in r.channels]
        handshakes = [r.at for r in sim.requests if HANDSHAKE in r.channels]
        # The first refusal is followed at once, the second after a back-off.
        assert handshakes[1] - subscribes[0] < AT_ONCE
        assert handshakes[2] - subscribes[1] >= 0.6


# --- advice ---


async def test_an_advised_interval_of_a_day_is_clamped(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bayeux, "MAX_INTERVAL", 0.1)
    async with simulator(csrf=False, cometd_timeout=0.2, cometd_interval=86400) as sim:
        client = bayeux_client(session, sim)
        async with streaming_bayeux(client) as watch:
            await sim.wait_for_connected()
            for number in range(3):
                sim.publish("/v2/me/calls", {"n": number})
                await sim.wait_for_delivered()
        assert [m["data"]["n"] for m in watch.messages] == [0, 1, 2]
        assert watch.connections == [True]


async def test_a_long_advised_timeout_is_asked_down(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server would hold a connect for 1 s, longer than the client waits
    # (0.2 s + 0.1 s): the client asks for 0.2 s on every connect instead.
    monkeypatch.setattr(bayeux, "MAX_TIMEOUT", 0.2)
    monkeypatch.setattr(bayeux, "CONNECT_MARGIN", 0.1)
    async with simulator(csrf=False, cometd_timeout=1.0) as sim:
        client = bayeux_client(session, sim)
        async with streaming_bayeux(client) as watch:
            await sim.wait_for_connected()
            await watch.wait_for(
                lambda: sum(CONNECT in r.channels for r in sim.requests) >= 5
            )
        connects = [r.body[0] for r in sim.requests if CONNECT in r.channels]
        assert all(c["advice"] == {"timeout": 200} for c in connects[:5])
        assert watch.connections == [True]


async def test_a_server_answering_at_once_is_not_polled_in_a_busy_loop(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bayeux, "MIN_POLL", 0.1)
    # advice.timeout 0 and interval 0: every connect is answered at once.
    async with simulator(csrf=False, cometd_timeout=0.0) as sim:
        client = bayeux_client(session, sim)
        async with streaming_bayeux(client) as watch:
            await watch.wait_for(
                lambda: sum(CONNECT in r.channels for r in sim.requests) >= 5
            )
            sim.publish("/v2/me/calls", {"n": 1})
            await watch.wait_for(lambda: bool(watch.messages))
        sent = [r.at for r in sim.requests if CONNECT in r.channels]
        # Each connect waits out the rest of MIN_POLL after its reply (a
        # little loopback jitter aside).
        gaps = [later - earlier for earlier, later in itertools.pairwise(sent[:5])]
        assert all(gap >= 0.09 for gap in gaps), gaps
        assert [m["data"] for m in watch.messages] == [{"n": 1}]


@pytest.mark.parametrize("successful", [True, False], ids=["ended", "refused"])
async def test_reconnect_none_stops_the_stream_for_good(
    session: aiohttp.ClientSession, socket_enabled: None, successful: bool
) -> None:
    async with simulator() as sim:
        client = GenesysClient(session, sim.base_url, sim.username, sim.password)
        watch = Watch()
        task = asyncio.create_task(
            client.async_stream(watch.on_messages, watch.on_connection)
        )
        await sim.wait_for_connected()
        sim.refuse_streams(successful=successful)
        with pytest.raises(StreamRefusedError, match="advised not to reconnect"):
            await task
        # No new handshake, and nothing left to leave.
        assert sim.requests[-1].channels == [CONNECT]
        assert sim.handshakes == 1
        assert watch.connections == [True, False]
        # Asked once more, it opens a session, polls and hears the same.
        with pytest.raises(StreamRefusedError):
            await client.async_check_stream()
        sim.accept_streams()
        await client.async_check_stream()
        assert sim.handshakes == 3
        assert sim.requests[-1].channels == ["/meta/disconnect"]
        await sim.wait_for_disconnected()


async def test_check_reports_what_would_stop_the_stream(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    async with simulator() as sim:
        client = GenesysClient(session, sim.base_url, sim.username, sim.password)
        sim.fail_next(503, channel=HANDSHAKE)
        with pytest.raises(ProviderUnavailableError, match="HTTP 503"):
            await client.async_check_stream()
        sim.refuse_handshakes("none")
        with pytest.raises(AuthenticationError):
            await client.async_check_stream()
        wrong = GenesysClient(session, sim.base_url, sim.username, "wrong")
        with pytest.raises(AuthenticationError):
            await wrong.async_check_stream()
        # A stopped client checks nothing.
        await client.async_stop()
        before = len(sim.requests)
        await client.async_check_stream()
        assert len(sim.requests) == before


# --- replies no reader foresaw ---


async def test_a_deeply_nested_connect_reply_is_a_drop(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with simulator(csrf=False) as sim:
        client = bayeux_client(session, sim)
        async with streaming_bayeux(client) as watch:
            await sim.wait_for_connected()
            deep = "[" * 100_000 + "]" * 100_000
            sim.fail_next(200, body=deep, channel=CONNECT)
            sim.publish("/v2/me/calls", {"n": 0})  # releases the pending connect
            await watch.wait_for(watch.returned)
            sim.publish("/v2/me/calls", {"n": 1})
            await sim.wait_for_delivered()
        assert [m["data"]["n"] for m in watch.messages] == [0, 1]
        assert watch.connections == [True, False, True]
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_reply_over_the_cap_is_not_read(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bayeux, "MAX_REPLY", 1000)
    monkeypatch.setattr(bayeux, "FIRST_BACKOFF", 0.01)
    async with simulator(csrf=False) as sim:
        client = bayeux_client(session, sim)
        async with streaming_bayeux(client) as watch:
            await sim.wait_for_connected()
            padding = [{"channel": "/v2/me/calls", "data": "x" * 2000}]
            sim.fail_next(200, body=json.dumps(padding), channel=CONNECT)
            sim.publish("/v2/me/calls", {"n": 0})
            await watch.wait_for(watch.returned)
        assert all(m["data"] != "x" * 2000 for m in watch.messages)


async def test_one_malformed_call_in_a_reply_spoils_only_itself(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with simulator(csrf=False) as sim:
        client = GenesysClient(session, sim.base_url, sim.username, sim.password)
        await client.async_get_devices()

        def call_message(call: dict[str, Any]) -> dict[str, Any]:
            return {
                "channel": "/v2/me/calls",
                "data": {"messageType": "CallStateChangeMessage", "call": call},
            }

        reply = [
            call_message({"id": "bad-1", "state": "Ringing", "duration": 1e400}),
            call_message({"id": "bad-2", "state": "Ringing", "duration": 10**30}),
            call_message({"id": "bad-3", "state": ["Ringing"], "callType": {}}),
            call_message({"id": "good", "state": "Ringing", "callType": "Inbound"}),
            {"channel": CONNECT, "successful": True},
        ]
        async with streaming_genesys(client) as watch:
            await sim.wait_for_connected()
            sim.fail_next(200, body=json.dumps(reply), channel=CONNECT)
            sim.publish("/v2/me/devices", {"n": 0})  # releases the pending connect
            await watch.wait_for(
                lambda: any(e.call_id == "good" for e in watch.messages)
            )
        events: list[CallEvent] = watch.messages
        assert [e.call_id for e in events] == ["bad-1", "bad-2", "good"]
        assert all(e.started_at is None for e in events)
        assert watch.connections == [True]
        assert "Ignoring a call without id or known state" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_failure_nothing_foresaw_starts_a_clean_session(
    session: aiohttp.ClientSession,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(bayeux, "FIRST_BACKOFF", 0.01)
    caplog.set_level(logging.DEBUG, logger=bayeux.__name__)
    failures = [RecursionError("deep")]

    async def before_handshake() -> None:
        if failures:
            raise failures.pop()

    async with simulator(csrf=False) as sim:
        authorization = basic_authorization(sim.username, sim.password)
        client = BayeuxClient(
            session,
            f"{sim.base_url}/api/v2/notifications",
            subscriptions=("/v2/me/calls",),
            headers=lambda: {"Authorization": authorization},
            before_handshake=before_handshake,
        )
        async with streaming_bayeux(client) as watch:
            await sim.wait_for_connected()
            await watch.wait_for(lambda: watch.connections == [True])
    assert "unexpected RecursionError; starting a new session" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

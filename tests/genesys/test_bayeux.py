"""The CometD long-polling client against the simulator's CometD server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib
import json
from typing import Any

import aiohttp
import pytest

from custom_components.switchboard.providers import bayeux
from custom_components.switchboard.providers.bayeux import (
    BayeuxClient,
    StreamRefusedError,
)
from custom_components.switchboard.providers.genesys import basic_authorization
from custom_components.switchboard.providers.model import AuthenticationError
from tests.simulators.genesys import GenesysSimulator

HANDSHAKE = "/meta/handshake"
SUBSCRIBE = "/meta/subscribe"
CONNECT = "/meta/connect"


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bayeux, "REQUEST_TIMEOUT", 2.0)
    monkeypatch.setattr(bayeux, "CONNECT_MARGIN", 1.0)
    monkeypatch.setattr(bayeux, "FIRST_BACKOFF", 0.01)
    monkeypatch.setattr(bayeux, "MAX_BACKOFF", 0.04)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[GenesysSimulator]:
    """A CometD server without CSRF protection, so only Basic auth is needed."""
    simulator = GenesysSimulator(csrf=False, cometd_timeout=1.0, max_interval=0.3)
    await simulator.start()
    yield simulator
    await simulator.close()


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as client_session:
        yield client_session


def make_client(
    session: aiohttp.ClientSession, sim: GenesysSimulator, **options: Any
) -> BayeuxClient:
    authorization = basic_authorization(sim.username, sim.password)
    settings: dict[str, Any] = {
        "subscriptions": ("/v2/me/*",),
        "headers": lambda: {"Authorization": authorization},
        **options,
    }
    return BayeuxClient(session, f"{sim.base_url}/api/v2/notifications", **settings)


@pytest.fixture
def client(session: aiohttp.ClientSession, sim: GenesysSimulator) -> BayeuxClient:
    return make_client(session, sim)


class Run:
    """One run() of a client, with what it reported."""

    def __init__(self, client: BayeuxClient) -> None:
        self.client = client
        self.messages: list[dict[str, Any]] = []
        self.connections: list[bool] = []
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(
            client.run(self._on_messages, self._on_connection)
        )

    def _on_messages(self, messages: list[dict[str, Any]]) -> None:
        self.messages.extend(messages)
        self._poke()

    def _on_connection(self, up: bool) -> None:
        self.connections.append(up)
        self._poke()

    def _poke(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not condition():
                # Some conditions change without a report: look again now and then.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)


@contextlib.asynccontextmanager
async def running(client: BayeuxClient) -> AsyncGenerator[Run]:
    run = Run(client)
    try:
        yield run
    finally:
        await client.stop()
        await run.task


def reply(channel: str, **fields: Any) -> str:
    return json.dumps([{"channel": channel, **fields}])


async def test_handshake_subscribe_deliver_and_disconnect(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    async with running(client) as run:
        await sim.wait_for_connected()
        assert client.connected
        assert client.client_id is not None
        sim.publish("/v2/me/calls", {"n": 1})
        sim.publish("/v2/other", {"n": 2})
        sim.publish("/v2/me/calls/deeper", {"n": 3})
        sim.publish("/v2/me/devices", {"n": 4})
        await sim.wait_for_delivered()
    assert [m["data"] for m in run.messages] == [{"n": 1}, {"n": 4}]
    assert run.connections == [True]
    assert not client.connected
    assert client.client_id is None
    handshake = sim.requests[0].body[0]
    assert handshake["supportedConnectionTypes"] == ["long-polling"]
    assert sim.requests[1].body[0]["subscription"] == "/v2/me/*"
    assert sim.requests[-1].channels == ["/meta/disconnect"]
    assert "BAYEUX_BROWSER" in sim.requests[1].headers["Cookie"]


async def test_interval_advice_spaces_the_connects(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    sim = GenesysSimulator(csrf=False, cometd_timeout=0.05, cometd_interval=0.02)
    await sim.start()
    try:
        client = make_client(session, sim)
        async with running(client) as run:
            await sim.wait_for_connected()
            for number in range(3):
                sim.publish("/v2/me/calls", {"n": number})
                await sim.wait_for_delivered()
        assert [m["data"]["n"] for m in run.messages] == [0, 1, 2]
    finally:
        await sim.close()


async def test_one_run_at_a_time(client: BayeuxClient, sim: GenesysSimulator) -> None:
    async with running(client):
        await sim.wait_for_connected()
        with pytest.raises(RuntimeError):
            await client.run(lambda _m: None, lambda _up: None)


async def test_a_stopped_client_does_not_start(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    await client.stop()
    await client.run(lambda _m: None, lambda _up: None)
    assert sim.requests == []


async def test_handshake_refused_for_now_is_retried(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    sim.refuse_handshakes("retry")
    async with running(client) as run:
        await sim.wait_for_connected()
    assert sim.handshakes == 1
    assert [r.channels for r in sim.requests[:2]] == [[HANDSHAKE], [HANDSHAKE]]
    assert run.connections == [True]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(
            200,
            reply(
                HANDSHAKE,
                successful=True,
                advice={"reconnect": "sometimes", "timeout": True, "interval": "x"},
            ),
            id="no clientId",
        ),
        pytest.param(200, "[]", id="no reply"),
        pytest.param(
            200,
            reply(HANDSHAKE, id="999", successful=True, clientId="z"),
            id="reply to another message",
        ),
        pytest.param(200, '[1, {"channel": 5}]', id="no readable reply"),
        pytest.param(200, '"text"', id="not a list"),
        pytest.param(200, "nope", id="not JSON"),
        pytest.param(500, None, id="server error"),
    ],
)
async def test_bad_handshake_replies_are_retried(
    client: BayeuxClient, sim: GenesysSimulator, status: int, body: str | None
) -> None:
    sim.fail_next(status, body=body, channel=HANDSHAKE)
    async with running(client) as run:
        await sim.wait_for_connected()
    assert run.connections == [True]
    assert sim.handshakes == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="HTTP 401"),
        pytest.param('{"statusCode": 20, "statusMessage": "no"}', id="statusCode 20"),
    ],
)
async def test_refused_credentials_end_the_run(
    client: BayeuxClient, sim: GenesysSimulator, body: str | None
) -> None:
    sim.fail_next(401 if body is None else 200, body=body)
    with pytest.raises(AuthenticationError):
        await client.run(lambda _m: None, lambda _up: None)


async def test_without_credentials(
    session: aiohttp.ClientSession, sim: GenesysSimulator
) -> None:
    client = make_client(session, sim, headers=None)
    with pytest.raises(AuthenticationError, match="HTTP 401"):
        await client.run(lambda _m: None, lambda _up: None)


async def test_messages_ride_along_any_reply(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    # Two handshake replies with client ids the server never gave, the first
    # with an event along, the second a bare object instead of a list: each
    # subscribe meets 402, and the client handshakes again, for real at last.
    sim.fail_next(
        200,
        body=json.dumps(
            [
                {"channel": "/v2/me/calls", "data": {"early": True}},
                {"channel": HANDSHAKE, "successful": True, "clientId": "bogus"},
            ]
        ),
        channel=HANDSHAKE,
    )
    sim.fail_next(
        200,
        body=json.dumps({"channel": HANDSHAKE, "successful": True, "clientId": "x"}),
        channel=HANDSHAKE,
    )
    async with running(client) as run:
        await sim.wait_for_connected()
    assert [m["data"] for m in run.messages] == [{"early": True}]
    assert sim.handshakes == 1
    assert run.connections == [True]


async def test_refused_subscription_starts_over(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    sim.fail_next(
        200,
        body=reply(SUBSCRIBE, successful=False, error="403::denied"),
        channel=SUBSCRIBE,
    )
    async with running(client) as run:
        await sim.wait_for_connected(handshakes=2)
    assert run.connections == [True]


@pytest.mark.parametrize(
    ("fields", "handshakes"),
    [
        pytest.param(
            {
                "successful": False,
                "error": "500::busy",
                "advice": {"reconnect": "retry"},
            },
            1,
            id="retry",
        ),
        pytest.param(
            {"successful": True, "advice": {"reconnect": "handshake", "interval": 0}},
            2,
            id="handshake advised",
        ),
        pytest.param(
            {"successful": False, "error": "402::Unknown client"}, 2, id="unknown"
        ),
        pytest.param(
            {
                "successful": False,
                "error": "403::denied",
                "advice": {"reconnect": "handshake"},
            },
            2,
            id="refused with handshake",
        ),
    ],
)
async def test_connect_replies_follow_the_advice(
    client: BayeuxClient,
    sim: GenesysSimulator,
    fields: dict[str, Any],
    handshakes: int,
) -> None:
    sim.fail_next(200, body=reply(CONNECT, **fields), channel=CONNECT)
    async with running(client) as run:
        await run.wait_for(lambda: run.connections == [True, False, True])
        await sim.wait_for_connected(handshakes=handshakes)
        sim.publish("/v2/me/calls", {"n": 1})
        await sim.wait_for_delivered()
    assert sim.handshakes == handshakes
    assert [m["data"] for m in run.messages] == [{"n": 1}]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"successful": True, "advice": {"reconnect": "none"}}, id="none"),
        pytest.param(
            {"successful": False, "error": "400::bad", "advice": {"reconnect": "none"}},
            id="refused for good",
        ),
    ],
)
async def test_reconnect_none_stops_without_a_new_handshake(
    client: BayeuxClient, sim: GenesysSimulator, fields: dict[str, Any]
) -> None:
    # Bayeux 1.0: "none" forbids the client a new handshake or connect.
    sim.fail_next(200, body=reply(CONNECT, **fields), channel=CONNECT)
    run = Run(client)
    with pytest.raises(StreamRefusedError, match="advised not to reconnect"):
        await run.task
    assert run.connections == [True, False]
    assert sim.handshakes == 1
    assert [r.channels for r in sim.requests] == [[HANDSHAKE], [SUBSCRIBE], [CONNECT]]
    assert not client.connected
    assert client.client_id is None


async def test_forbidden_connect_starts_over(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    sim.fail_next(403, channel=CONNECT)
    async with running(client) as run:
        await sim.wait_for_connected(handshakes=2)
        await run.wait_for(lambda: run.connections == [True, False, True])


async def test_stop_during_an_outage(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    async with running(client) as run:
        await sim.wait_for_connected()
        sim.go_offline()
        await run.wait_for(lambda: run.connections == [True, False])
    # The disconnect met the outage too; stopping stayed quiet.
    assert sim.requests[-1].channels == ["/meta/disconnect"]


async def test_stop_before_ever_connecting(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    sim.go_offline()
    async with running(client) as run:
        await run.wait_for(lambda: len(sim.requests) >= 2)
    assert run.connections == []
    assert all(r.channels == [HANDSHAKE] for r in sim.requests)


async def test_stop_cancels_a_request_in_flight(
    client: BayeuxClient, sim: GenesysSimulator
) -> None:
    sim.slow_next(3.0, channel=HANDSHAKE)
    async with running(client) as run:
        await run.wait_for(lambda: bool(sim.requests))
    assert run.task.done()
    assert sim.handshakes == 0

"""`scripts/develop` end to end: all four providers in one real Home Assistant.

The demo runs as `scripts/develop` runs it (in a folder of the test's own):
the four simulators as processes, `hass` over https with the generated
certificate, the owner onboarded, one entry per provider added through the
config-flow REST API (Webex through its OAuth sign-in at the simulator) and
the Calls dashboard. Each provider is then rung with `scripts/ring`,
answered through `switchboard.answer_call` as REST and the websocket show it,
checked at the simulator, and hung up by the caller; then answered with its
Answer button and by voice ("answer the call").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator
import json
import socket
from typing import Any, Final

import aiohttp
import pytest

from tests.develop import ring
from tests.develop.__main__ import Demo
from tests.develop.dashboard import DASHBOARD, README_ENTITIES
from tests.develop.entries import post_control
from tests.develop.state import LOOPBACK, PROVIDERS

from .api import HassApi

# Hangs only: how long a state may take to show in Home Assistant.
SHOW_TIMEOUT: Final = 30.0

type RequestCheck = Callable[[dict[str, Any]], bool]

# How each simulator receives an answer command.
ANSWERS: Final[dict[str, RequestCheck]] = {
    "telnyx": lambda request: request["path"].endswith("/actions/answer"),
    "webex": lambda request: request["path"].endswith("/telephony/calls/answer"),
    "graph": lambda request: request["path"].endswith("/answer"),
    "genesys": lambda request: (
        "/me/calls/" in request["path"]
        and isinstance(request["body"], dict)
        and request["body"].get("operationName") == "Answer"
    ),
}


@pytest.fixture(scope="module")
def demo(
    loopback_sockets: None, tmp_path_factory: pytest.TempPathFactory
) -> Generator[Demo]:
    """The demo as `scripts/develop` starts it; stopped however the module ends."""
    started = Demo(public=False, folder=tmp_path_factory.mktemp("develop") / "demo")
    try:
        started.start()
        yield started
    finally:
        started.stop()


@pytest.fixture
async def api(demo: Demo) -> AsyncGenerator[HassApi]:
    """The demo owner's REST and websocket client, over the demo's https."""
    assert demo.tls is not None
    # IPv4 only: localhost's ::1 is outside the loopback the harness allows.
    connector = aiohttp.TCPConnector(
        ssl=demo.tls.client_context(), family=socket.AF_INET
    )
    async with aiohttp.ClientSession(connector=connector) as session:
        yield HassApi(session, demo.url, demo.token)


def simulator_requests(demo: Demo, provider: str, since: int = 0) -> dict[str, Any]:
    """What one simulator process received, through its control route."""
    port = demo.state["ports"][provider]
    return post_control(f"http://{LOOPBACK}:{port}", "requests", {"since": since})


async def switchboard_sensors(api: HassApi) -> list[dict[str, Any]]:
    """The states of every Switchboard call sensor."""
    states: list[dict[str, Any]] = await api.get("/api/states")
    return [
        state
        for state in states
        if state["entity_id"].startswith("sensor.")
        and state["entity_id"].endswith("_call")
        and "active_calls" in state["attributes"]
    ]


async def sensor_showing(api: HassApi, call_id: str, state: str) -> str:
    """Wait until a call sensor shows `call_id` in `state`; its entity id."""
    async with asyncio.timeout(SHOW_TIMEOUT):
        while True:
            for sensor in await switchboard_sensors(api):
                shown = sensor["attributes"].get("call_id")
                if sensor["state"] == state and shown == call_id:
                    return str(sensor["entity_id"])
            await asyncio.sleep(0.1)


def ring_with_the_script(demo: Demo, *argv: str) -> str:
    """Run `scripts/ring` against the demo; the call it rang or hung up."""
    assert ring.main(list(argv), demo.state_file) == 0
    provider = argv[-1]
    call: str = json.loads(demo.state_file.read_text())["calls"][provider]
    return call


async def test_the_demo_is_ready_as_the_readme_says(api: HassApi, demo: Demo) -> None:
    # The printed login works: a fresh sign-in, not the token the demo holds.
    login = demo.state["login"]
    assert demo.hass is not None
    assert demo.hass.log_in(login["username"], login["password"])
    entries = await api.entries()
    assert sorted(entry["domain"] for entry in entries) == ["switchboard"] * 4
    assert all(entry["state"] == "loaded" for entry in entries)
    assert {known["entry_id"] for known in demo.state["entries"].values()} == {
        entry["entry_id"] for entry in entries
    }
    # Home Assistant serves https; Teams's notification URL is that origin.
    assert demo.url.startswith("https://localhost:")

    sensors = await switchboard_sensors(api)
    assert sensors
    assert {sensor["state"] for sensor in sensors} == {"idle"}
    assert demo.cards == len(sensors)
    assert demo.cards > len(PROVIDERS)


async def test_the_calls_dashboard_has_the_readme_card_per_device(
    api: HassApi, demo: Demo
) -> None:
    async with api.websocket() as ask:
        config = await ask({"type": "lovelace/config", "url_path": DASHBOARD})
    [view] = config["views"]
    cards = view["cards"]
    assert len(cards) == demo.cards
    shown_sensors = {card["cards"][0]["entity"] for card in cards}
    assert shown_sensors == {
        sensor["entity_id"] for sensor in await switchboard_sensors(api)
    }
    # Genesys cannot reject: its cards have no Decline button.
    text = json.dumps(cards)
    assert README_ENTITIES["call"] in text  # the Telnyx front desk is the README's
    declines = text.count("_decline")
    assert 0 < declines < 2 * demo.cards


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_ring_answer_and_hang_up(api: HassApi, demo: Demo, provider: str) -> None:
    before = simulator_requests(demo, provider)["count"]
    call_id = ring_with_the_script(demo, provider)
    async with api.state_changes() as changes:
        sensor = await sensor_showing(api, call_id, "ringing")
        caller = (await api.state(sensor.removesuffix("_call") + "_caller"))["state"]
        # By number, or by name where Teams calls carry no number.
        assert ring.CALLER in caller or ring.CALLER_NAME in caller

        answered = await api.call_service(
            "switchboard", "answer_call", {"entity_id": sensor}
        )

        assert answered["service_response"][sensor]["call_id"] == call_id
        talking = await changes.wait_for(sensor, "talking")
        assert talking["attributes"]["call_id"] == call_id
    received = simulator_requests(demo, provider, before)["requests"]
    assert [request for request in received if ANSWERS[provider](request)]

    async with api.state_changes() as changes:
        assert ring_with_the_script(demo, "--hangup", provider) == call_id
        await changes.wait_for(sensor, "idle")
    last = await api.state(sensor.removesuffix("_call") + "_last_call")
    assert last["attributes"]["call_id"] == call_id
    assert last["attributes"]["outcome"] == "answered"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_answer_with_the_button_and_by_voice(
    api: HassApi, demo: Demo, provider: str
) -> None:
    for answer in ("button", "voice"):
        before = simulator_requests(demo, provider)["count"]
        call_id = ring_with_the_script(demo, provider)
        async with api.state_changes() as changes:
            sensor = await sensor_showing(api, call_id, "ringing")
            if answer == "button":
                await api.press(
                    sensor.removesuffix("_call").replace("sensor.", "button.", 1)
                    + "_answer"
                )
            else:
                said = await api.converse("answer the call")
                assert said["response"]["response_type"] == "action_done", said
            talking = await changes.wait_for(sensor, "talking")
            assert talking["attributes"]["call_id"] == call_id
        received = simulator_requests(demo, provider, before)["requests"]
        assert [request for request in received if ANSWERS[provider](request)]
        async with api.state_changes() as changes:
            ring_with_the_script(demo, "--hangup", provider)
            await changes.wait_for(sensor, "idle")

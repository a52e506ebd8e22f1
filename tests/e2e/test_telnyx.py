"""Telnyx end to end: a real `hass`, the simulator, and only public APIs.

One `hass` process serves the whole module (the last test restarts it), so
every test ends with its calls over and the phones idle.
"""

from __future__ import annotations

import asyncio

from tests.const import CALLER, FRONT_DESK, KITCHEN

from .api import FlowWalk, HassApi, StateChanges
from .hass_process import HassProcess
from .simulator_thread import SimulatorThread

SENSOR = "sensor.15550100001_call"
KITCHEN_SENSOR = "sensor.15550100002_call"
ANSWER_BUTTON = "button.15550100001_answer"
CALLER_NAME = "Ada Lovelace"
KITCHEN_CALLER = "+15550001111"


async def ring_front_desk(
    api: HassApi, telnyx: SimulatorThread, changes: StateChanges
) -> str:
    """Ring the front desk; check the call as REST and websocket show it."""
    call_id = await telnyx.ring(FRONT_DESK, CALLER, CALLER_NAME)
    pushed = await changes.wait_for(SENSOR, "ringing")
    read = await api.state(SENSOR)
    for state in (pushed, read):
        assert state["state"] == "ringing"
        assert state["attributes"]["call_id"] == call_id
        assert state["attributes"]["direction"] == "incoming"
        assert state["attributes"]["remote_number"] == CALLER
        assert state["attributes"]["remote_name"] == CALLER_NAME
        assert state["attributes"]["local_number"] == FRONT_DESK
    return call_id


async def test_entry_added_through_the_config_flow(
    api: HassApi,
    home_assistant: HassProcess,
    telnyx_entry: FlowWalk,
    telnyx_simulator: SimulatorThread,
) -> None:
    assert telnyx_entry.menu["type"] == "menu"
    assert "telnyx" in telnyx_entry.menu["menu_options"]
    assert telnyx_entry.credentials_form["step_id"] == "telnyx"
    assert telnyx_entry.application_form["step_id"] == "application"
    assert telnyx_entry.created["type"] == "create_entry"
    assert telnyx_entry.created["title"] == "Front desk"

    onboarding = await api.get("/api/onboarding")
    assert {step["step"] for step in onboarding} == {
        "user",
        "core_config",
        "analytics",
        "integration",
    }
    assert all(step["done"] for step in onboarding)
    [entry] = await api.entries()
    assert entry["entry_id"] == telnyx_entry.created["result"]["entry_id"]
    assert entry["state"] == "loaded"
    [application] = await telnyx_simulator.read(
        lambda simulator: list(simulator.applications.values())
    )
    assert application["webhook_event_url"].startswith(
        f"{home_assistant.url}/api/webhook/"
    )
    for sensor in (SENSOR, KITCHEN_SENSOR):
        assert (await api.state(sensor))["state"] == "idle"


async def test_answer_with_the_action(
    api: HassApi, telnyx_simulator: SimulatorThread
) -> None:
    async with api.state_changes() as changes:
        call_id = await ring_front_desk(api, telnyx_simulator, changes)

        answered = await api.call_service(
            "switchboard", "answer_call", {"entity_id": SENSOR}
        )

        # Telnyx confirms the answer with a webhook, which may come before or
        # after the action's reply.
        response = answered["service_response"][SENSOR]
        assert response["call_id"] == call_id
        assert response["state"] in {"ringing", "talking"}
        assert await telnyx_simulator.commands(call_id) == ["answer"]
        talking = await changes.wait_for(SENSOR, "talking")
        assert talking["attributes"]["call_id"] == call_id
        assert talking["attributes"]["answered_at"] is not None

        await telnyx_simulator.hang_up_remotely(call_id)
        await changes.wait_for(SENSOR, "idle")


async def test_answer_with_the_button(
    api: HassApi, telnyx_simulator: SimulatorThread
) -> None:
    async with api.state_changes() as changes:
        call_id = await ring_front_desk(api, telnyx_simulator, changes)

        await api.press(ANSWER_BUTTON)

        assert await telnyx_simulator.commands(call_id) == ["answer"]
        await changes.wait_for(SENSOR, "talking")

        await api.call_service("switchboard", "hangup_call", {"entity_id": SENSOR})

        assert await telnyx_simulator.commands(call_id) == ["answer", "hangup"]
        await changes.wait_for(SENSOR, "idle")


async def test_answer_by_voice(api: HassApi, telnyx_simulator: SimulatorThread) -> None:
    async with api.state_changes() as changes:
        call_id = await ring_front_desk(api, telnyx_simulator, changes)

        said = await api.converse("answer the call")

        response = said["response"]
        assert response["response_type"] == "action_done", response
        assert CALLER_NAME in response["speech"]["plain"]["speech"]
        assert await telnyx_simulator.commands(call_id) == ["answer"]
        await changes.wait_for(SENSOR, "talking")

        await telnyx_simulator.hang_up_remotely(call_id)
        await changes.wait_for(SENSOR, "idle")


async def test_restart_in_the_middle_of_calls(
    api: HassApi,
    home_assistant: HassProcess,
    owner_token: str,
    telnyx_simulator: SimulatorThread,
) -> None:
    """Talking on one phone and ringing on the other when `hass` stops.

    While it is down the ringing caller gives up; the webhook saying so finds
    nobody. Started again, it reads the live calls from Telnyx: the talk goes
    on, the kitchen is idle.
    """
    async with api.state_changes() as changes:
        talk = await ring_front_desk(api, telnyx_simulator, changes)
        await api.call_service("switchboard", "answer_call", {"entity_id": SENSOR})
        await changes.wait_for(SENSOR, "talking")
        abandoned = await telnyx_simulator.ring(KITCHEN, KITCHEN_CALLER, "Grace")
        await changes.wait_for(KITCHEN_SENSOR, "ringing")

    assert await asyncio.to_thread(home_assistant.stop) == 0
    delivered_before = await telnyx_simulator.read(
        lambda simulator: len(simulator.deliveries)
    )
    await telnyx_simulator.hang_up_remotely(abandoned)
    lost = await telnyx_simulator.read(
        lambda simulator: simulator.deliveries[delivered_before:]
    )
    assert lost
    assert all(delivery.status is None for delivery in lost)

    requests_before = len(await telnyx_simulator.requests())
    await asyncio.to_thread(home_assistant.start, owner_token)

    [entry] = await api.entries()
    assert entry["state"] == "loaded"
    talking = await api.state(SENSOR)
    assert talking["state"] == "talking"
    assert talking["attributes"]["call_id"] == talk
    assert (await api.state(KITCHEN_SENSOR))["state"] == "idle"
    read_at_start = (await telnyx_simulator.requests())[requests_before:]
    assert any(
        request.method == "GET" and request.path.endswith("/active_calls")
        for request in read_at_start
    )

    async with api.state_changes() as changes:
        await api.call_service("switchboard", "hangup_call", {"entity_id": SENSOR})
        assert await telnyx_simulator.commands(talk) == ["answer", "hangup"]
        await changes.wait_for(SENSOR, "idle")

"""Telnyx re-reads its calls from the application's active calls.

GET /v2/connections/{id}/active_calls (the Call Control application id is the
connection id) says which calls are alive, with neither state nor parties;
each call's webhook events in the call event log (GET /v2/call_events) say
those. At set-up that brings back the calls of before a restart, and after an
outage the re-read while calls are live catches what the webhooks missed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
import logging
from unittest.mock import patch

import aiohttp
from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.switchboard.hub import RECONCILE_INTERVAL
from custom_components.switchboard.providers.base import ReconcilingProvider
from custom_components.switchboard.providers.kernel.values import parse_timestamp
from custom_components.switchboard.providers.model import (
    CallAction,
    CallState,
    Direction,
    ProviderError,
    ProviderUnavailableError,
)
from custom_components.switchboard.providers.telnyx import (
    RINGING_ACTIONS,
    TelnyxClient,
)
from tests.const import CALLER, FRONT_DESK, KITCHEN
from tests.helpers import KITCHEN_SENSOR, SENSOR, call_action, ring, settle, state_of
from tests.simulators.telnyx import TelnyxSimulator

TELNYX = "custom_components.switchboard.providers.telnyx"
SECOND_CALLER = "+15550001111"


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def client(
    session: aiohttp.ClientSession, telnyx: TelnyxSimulator, application_id: str
) -> TelnyxClient:
    """A client that knows the application's numbers (as after set-up)."""
    client = TelnyxClient(
        session,
        telnyx.api_key,
        public_key=telnyx.public_key_b64,
        application_id=application_id,
        base_url=telnyx.base_url,
    )
    await client.async_get_devices()
    return client


def number_ids(telnyx: TelnyxSimulator) -> dict[str, str]:
    return {n["phone_number"]: n["id"] for n in telnyx.phone_numbers.values()}


def paths(telnyx: TelnyxSimulator, part: str) -> list[dict[str, str]]:
    return [request.query for request in telnyx.requests if part in request.path]


async def answered_by_the_far_side(telnyx: TelnyxSimulator, call_id: str) -> None:
    """Answer a call at the simulator, as a command of another app would."""
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{telnyx.base_url}/calls/{call_id}/actions/answer",
            json={},
            headers={"Authorization": f"Bearer {telnyx.api_key}"},
        )
        assert response.status == 200
    await telnyx.wait_for_webhooks()


# --- the client ---


def test_the_client_reconciles(client: TelnyxClient) -> None:
    assert isinstance(client, ReconcilingProvider)


async def test_live_calls_come_with_their_state_and_parties(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    ringing = await telnyx.ring(FRONT_DESK, CALLER, caller_id_name="Ada Lovelace")
    talking = await telnyx.ring(KITCHEN, SECOND_CALLER)
    await answered_by_the_far_side(telnyx, talking)
    ended = await telnyx.ring(FRONT_DESK, SECOND_CALLER)
    await telnyx.remote_hangup(ended)

    events = {event.call_id: event for event in await client.async_list_calls()}

    assert set(events) == {ringing, talking}
    numbers = number_ids(telnyx)
    first = events[ringing]
    assert first.state is CallState.RINGING
    assert first.direction is Direction.INCOMING
    assert first.device_ids == (numbers[FRONT_DESK],)
    assert (first.remote_number, first.remote_name) == (CALLER, "Ada Lovelace")
    assert first.local_number == FRONT_DESK
    assert first.actions == RINGING_ACTIONS
    assert first.raw["event"] == "call.initiated"
    second = events[talking]
    assert second.state is CallState.TALKING
    assert second.device_ids == (numbers[KITCHEN],)
    assert second.remote_number == SECOND_CALLER
    assert second.actions == frozenset(
        {
            CallAction.HANGUP,
            CallAction.TRANSFER,
            CallAction.SPEAK,
            CallAction.PLAY,
            CallAction.SEND_DIGITS,
        }
    )
    assert second.raw["event"] == "call.answered"
    # Ordered as the webhooks of the same events are: a listed call never
    # overtakes a newer event.
    logged = parse_timestamp(telnyx.calls[talking].events[-1]["event_timestamp"])
    assert logged is not None
    assert second.occurred_at == logged
    assert second.order == (logged.timestamp(), 1)
    # Each call's events are asked for by its leg, webhooks only.
    [application_id] = telnyx.applications
    assert paths(telnyx, f"/connections/{application_id}/active_calls")
    legs = {query["filter[leg_id]"] for query in paths(telnyx, "/call_events")}
    assert legs == {
        telnyx.calls[ringing].call_leg_id,
        telnyx.calls[talking].call_leg_id,
    }
    assert {query["filter[type]"] for query in paths(telnyx, "/call_events")} == {
        "webhook"
    }


async def test_a_call_the_log_says_nothing_of_rings_on_every_number(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    telnyx.calls[call_id].events.clear()  # the log has not caught up

    [event] = await client.async_list_calls()

    assert event.call_id == call_id
    assert event.state is CallState.RINGING
    assert set(event.device_ids) == set(number_ids(telnyx).values())
    assert event.remote_number is None
    # Before any event: it never moves a call already known.
    assert event.order == (0.0, 0)
    assert event.raw["event"] == "active_call"
    assert event.raw["call_leg_id"] == telnyx.calls[call_id].call_leg_id


@pytest.mark.parametrize("status", [403, 404])
async def test_a_log_out_of_reach_leaves_the_calls_alive(
    client: TelnyxClient, telnyx: TelnyxSimulator, status: int
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    telnyx.fail_next(status, path_contains="/call_events")
    [event] = await client.async_list_calls()
    assert event.call_id == call_id
    assert event.event_id == f"alive:{call_id}"
    telnyx.fail_next(503, path_contains="/call_events")
    with pytest.raises(ProviderUnavailableError):
        await client.async_list_calls()


async def test_a_log_without_the_raw_events_still_gives_the_state(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    await answered_by_the_far_side(telnyx, call_id)
    for entry in telnyx.calls[call_id].events:
        entry["metadata"] = {}

    placed, state = await client.async_list_calls()

    # Which number it rings is unknown: a call not known yet shows on every
    # number, placed before any event; a known call takes only the state.
    assert placed.call_id == state.call_id == call_id
    assert placed.state is state.state is CallState.TALKING
    assert placed.order == (0.0, 0)
    assert set(placed.device_ids) == set(number_ids(telnyx).values())
    assert state.order > placed.order
    assert state.device_ids == ()
    assert placed.remote_number is state.remote_number is None


async def test_a_known_call_keeps_its_number_when_the_log_names_none(
    hass: HomeAssistant, telnyx: TelnyxSimulator, setup_telnyx: MockConfigEntry
) -> None:
    del setup_telnyx
    call_id = await ring(hass, telnyx)
    telnyx.hold_webhooks()
    await answered_by_the_far_side(telnyx, call_id)
    for entry in telnyx.calls[call_id].events:
        entry["metadata"] = {}

    async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)

    front = state_of(hass, SENSOR)
    assert front.state == "talking"
    assert front.attributes["call_id"] == call_id
    assert front.attributes["remote_number"] == CALLER
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"
    await telnyx.release_webhooks()


async def test_unreadable_log_entries_are_skipped(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    call_id = await telnyx.ring(FRONT_DESK, CALLER)
    [initiated] = telnyx.calls[call_id].events
    began = parse_timestamp(initiated["event_timestamp"])
    assert began is not None
    later = (began + timedelta(seconds=1)).isoformat()
    telnyx.calls[call_id].events[:0] = [
        {**initiated, "name": "call.hangup", "event_timestamp": "not a time"},
        {**initiated, "name": "call.hangup", "type": "command"},
        {**initiated, "name": None},
        # A webhook of no state: its payload counts, its name does not.
        {**initiated, "name": "call.dtmf.received", "event_timestamp": later},
        # The raw event as a whole envelope, moving the call to the kitchen.
        {
            **initiated,
            "name": "call.answered",
            "event_timestamp": later,
            "metadata": {"event": {"data": {"payload": {"to": KITCHEN}}}},
        },
    ]

    [event] = await client.async_list_calls()

    assert event.state is CallState.TALKING
    assert event.device_ids == (number_ids(telnyx)[KITCHEN],)
    assert event.remote_number == CALLER  # from the initiated event


async def test_odd_active_calls_are_read_as_far_as_they_go(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    """Items without an id are skipped; a call without a leg has no log to read."""
    del socket_enabled
    listed = {
        "data": [{"call_leg_id": "leg"}, "junk", {"call_control_id": "v3:odd"}],
        "meta": "not an object",
    }

    async def active_calls(request: web.Request) -> web.Response:
        del request
        return web.json_response(listed)

    app = web.Application()
    app.router.add_get("/v2/connections/app/active_calls", active_calls)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        client = TelnyxClient(
            session,
            "KEYcanned",
            application_id="app",
            base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/v2",
        )
        [event] = await client.async_list_calls()
    finally:
        await runner.cleanup()
    assert event.call_id == "v3:odd"
    assert event.state is CallState.RINGING
    assert event.raw == {"event": "active_call"}


@pytest.mark.parametrize("paging", ["numbers", "cursors"])
async def test_active_calls_are_read_page_by_page(
    client: TelnyxClient, telnyx: TelnyxSimulator, paging: str
) -> None:
    telnyx.active_calls_paging = paging  # type: ignore[assignment]
    calls = {await telnyx.ring(FRONT_DESK, f"+1555000000{n}") for n in range(3)}
    with patch(f"{TELNYX}.PAGE_SIZE", 2):
        events = await client.async_list_calls()
    assert {event.call_id for event in events} == calls
    pages = paths(telnyx, "/active_calls")
    if paging == "numbers":
        assert [page["page[number]"] for page in pages] == ["1", "2"]
    else:
        assert "page[after]" not in pages[0]
        assert pages[1]["page[after]"]


async def test_a_list_without_end_is_refused(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    for n in range(3):
        await telnyx.ring(FRONT_DESK, f"+1555000000{n}")
    with (
        patch(f"{TELNYX}.PAGE_SIZE", 1),
        patch(f"{TELNYX}.MAX_PAGES", 2),
        pytest.raises(ProviderError, match="more than 2 pages"),
    ):
        await client.async_list_calls()


# --- in Home Assistant ---


async def test_calls_of_before_the_set_up_are_shown(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    telnyx_entry: MockConfigEntry,
    ha_url: str,
) -> None:
    """A call that rang before Home Assistant started shows on its number."""
    del ha_url
    call_id = await telnyx.ring(KITCHEN, CALLER, caller_id_name="Ada Lovelace")
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()

    kitchen = state_of(hass, KITCHEN_SENSOR)
    assert kitchen.state == "ringing"
    assert kitchen.attributes["call_id"] == call_id
    assert kitchen.attributes["remote_number"] == CALLER
    assert kitchen.attributes["remote_name"] == "Ada Lovelace"
    assert state_of(hass, SENSOR).state == "idle"


async def test_missed_webhooks_are_caught_up_on_the_re_read(
    hass: HomeAssistant, telnyx: TelnyxSimulator, setup_telnyx: MockConfigEntry
) -> None:
    """An outage of the webhooks: the periodic re-read shows what they missed."""
    del setup_telnyx
    answered = await ring(hass, telnyx)
    hung_up = await ring(hass, telnyx, to=KITCHEN)
    telnyx.hold_webhooks()  # nothing reaches Home Assistant from now on
    await call_action(hass, "answer_call", entity_id=SENSOR)
    await telnyx.remote_hangup(hung_up)
    await telnyx.wait_for_webhooks()
    assert state_of(hass, SENSOR).state == "ringing"
    assert state_of(hass, KITCHEN_SENSOR).state == "ringing"

    async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)

    front = state_of(hass, SENSOR)
    assert front.state == "talking"
    assert front.attributes["call_id"] == answered
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"
    # The late webhooks change nothing.
    await telnyx.release_webhooks()
    await settle(hass, telnyx)
    assert state_of(hass, SENSOR).state == "talking"
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"


async def test_a_failed_re_read_keeps_the_calls(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    setup_telnyx: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    del setup_telnyx
    call_id = await ring(hass, telnyx)
    telnyx.fail_next(503, path_contains="/active_calls")
    with caplog.at_level(logging.WARNING):
        async_fire_time_changed(hass, dt_util.utcnow() + RECONCILE_INTERVAL)
        await hass.async_block_till_done(wait_background_tasks=True)
    sensor = state_of(hass, SENSOR)
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == call_id
    assert "Could not re-read the calls of Front desk" in caplog.text
    # The next re-read, once Telnyx answers again, catches up.
    telnyx.hold_webhooks()
    await telnyx.remote_hangup(call_id)
    async_fire_time_changed(hass, dt_util.utcnow() + 2 * RECONCILE_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, SENSOR).state == "idle"
    await telnyx.release_webhooks()

"""The Genesys stream in Home Assistant when the server ends it, or answers oddly.

`reconnect: none` forbids the client to come back on its own (Bayeux 1.0):
the stream stops, the devices go unavailable, a repair issue says why, and
Home Assistant's own set-up retry, with its back-off, brings the entry back
once the server takes a stream again.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.switchboard.const import DOMAIN
from custom_components.switchboard.providers.genesys import GenesysClient
from tests.fixtures.genesys import GENESYS_DESK, genesys_settle
from tests.helpers import state_of
from tests.simulators.genesys import GenesysSimulator

from .test_integration import (
    CALLER,
    DESK,
    ENTITIES,
    SHOWING_ENTITIES,
    STREAM_BACK,
    STREAM_LOST,
    cometd,
    logged,
    ring,
    stream_tasks,
    wait_for_state,
)

REFUSED = "Genesys ended the event stream of Kristi Sippola"
RETRY_TASK = "config entry retry switchboard"
WAIT_LIMIT = 5.0


def issue_of(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"stream_refused_{entry.entry_id}"
    )


async def retry_setup(hass: HomeAssistant, after: float) -> None:
    """Let `after` seconds pass for Home Assistant's retry; wait for what it runs."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=after))
    await hass.async_block_till_done()
    while tasks := [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith(RETRY_TASK) and not task.done()
    ]:
        await asyncio.wait(tasks)
        await hass.async_block_till_done()


@pytest.mark.parametrize("successful", [True, False], ids=["ended", "refused"])
async def test_reconnect_none_waits_for_home_assistants_retry(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    setup_genesys: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    successful: bool,
) -> None:
    entry = setup_genesys
    [stream] = stream_tasks()
    genesys.refuse_streams(successful=successful)
    await asyncio.wait([stream])
    await hass.async_block_till_done()

    # Stopped for good: no new handshake of its own, the devices unavailable,
    # a repair issue that says why, and the entry waiting for its retry.
    assert len(cometd(genesys, "/meta/handshake")) == 1
    assert all(
        state_of(hass, entity).state == STATE_UNAVAILABLE for entity in SHOWING_ENTITIES
    )
    issue = issue_of(hass, entry)
    assert issue is not None
    assert issue.translation_key == "stream_refused"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["title"] == "Kristi Sippola"
    assert issue.translation_placeholders["provider"] == "Genesys"
    assert "advised not to reconnect" in issue.translation_placeholders["error"]
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "stream_refused"
    assert len(logged(caplog, logging.WARNING, REFUSED)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    # Home Assistant retries after 5 s: the set-up opens a session once, and
    # the server still refuses it.
    await retry_setup(hass, 6)
    assert len(cometd(genesys, "/meta/handshake")) == 2
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "cannot_connect"
    assert issue_of(hass, entry) is not None

    # The next retry waits longer (10 s): 6 s on, nothing is asked.
    await retry_setup(hass, 6)
    assert len(cometd(genesys, "/meta/handshake")) == 2
    assert entry.state is ConfigEntryState.SETUP_RETRY

    # The server takes streams again: the next retry loads the entry.
    genesys.accept_streams()
    handshakes = genesys.handshakes
    await retry_setup(hass, 11)
    assert entry.state is ConfigEntryState.LOADED
    await genesys.wait_for_connected(handshakes=handshakes + 2)
    await wait_for_state(hass, DESK, "idle")
    await genesys_settle(hass, genesys)
    assert issue_of(hass, entry) is None
    assert all(state_of(hass, entity).state != STATE_UNAVAILABLE for entity in ENTITIES)
    call_id = await ring(hass, genesys)
    assert state_of(hass, DESK).attributes["call_id"] == call_id
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_stream_coming_back_clears_the_issue_after_a_reload(
    hass: HomeAssistant, genesys: GenesysSimulator, setup_genesys: MockConfigEntry
) -> None:
    # A user who reloads by hand meanwhile gets the same deliberate retry.
    [stream] = stream_tasks()
    genesys.refuse_streams()
    await asyncio.wait([stream])
    await hass.async_block_till_done()
    assert setup_genesys.state is ConfigEntryState.SETUP_RETRY
    genesys.accept_streams()
    await hass.config_entries.async_reload(setup_genesys.entry_id)
    await hass.async_block_till_done()
    assert setup_genesys.state is ConfigEntryState.LOADED
    await genesys.wait_for_connected(handshakes=3)
    await wait_for_state(hass, DESK, "idle")
    assert issue_of(hass, setup_genesys) is None


def dropped_and_back(entry: MockConfigEntry) -> asyncio.Event:
    """An event set once the hub has gone unavailable and come back."""
    back = asyncio.Event()
    changes: list[bool] = []

    @callback
    def _changed() -> None:
        changes.append(entry.runtime_data.available)
        if changes[-2:] == [False, True]:
            back.set()

    entry.async_on_unload(entry.runtime_data.async_subscribe_availability(_changed))
    return back


async def test_a_deeply_nested_reply_drops_the_stream_and_it_returns(
    hass: HomeAssistant,
    genesys: GenesysSimulator,
    setup_genesys: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    back = dropped_and_back(setup_genesys)
    deep = "[" * 100_000 + "]" * 100_000
    genesys.fail_next(200, body=deep, channel="/meta/connect")
    first = await ring(hass, genesys)  # the pending connect brings it
    # The next connect meets the reply no reader takes: a drop, and back.
    await asyncio.wait_for(back.wait(), WAIT_LIMIT)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).attributes["call_id"] == first
    genesys.remote_hangup(first)
    second = genesys.ring(genesys.device_id(GENESYS_DESK), caller=CALLER)
    await genesys_settle(hass, genesys)
    assert state_of(hass, DESK).state == "ringing"
    assert state_of(hass, DESK).attributes["call_id"] == second
    assert len(logged(caplog, logging.WARNING, STREAM_LOST)) == 1
    assert len(logged(caplog, logging.INFO, STREAM_BACK)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_stream_that_fails_unforeseen_is_not_silent(
    hass: HomeAssistant,
    setup_genesys: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing in a reply can do this (the property tests say so); should a
    # bug ever end the stream, the devices and the log say it.
    with patch.object(GenesysClient, "async_stream", side_effect=RecursionError):
        assert await hass.config_entries.async_reload(setup_genesys.entry_id)
        await hass.async_block_till_done()
    assert stream_tasks() == []
    assert all(
        state_of(hass, entity).state == STATE_UNAVAILABLE for entity in SHOWING_ENTITIES
    )
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "The event stream of Kristi Sippola stopped" in record.getMessage()
    assert record.exc_info is not None

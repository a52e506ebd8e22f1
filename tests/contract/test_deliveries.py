"""Deliveries of the provider's events: forged, repeated and out of order."""

from __future__ import annotations

from http import HTTPStatus

from homeassistant.core import HomeAssistant

from tests.helpers import record_events, state_of

from .harness import Harness, WebhookHarness


async def test_forged_deliveries_are_refused_and_change_nothing(
    hass: HomeAssistant, webhook_harness: WebhookHarness
) -> None:
    fired = record_events(hass, webhook_harness.event)
    statuses = await webhook_harness.forged_ring()
    assert statuses
    assert set(statuses) == {HTTPStatus.UNAUTHORIZED}
    sensor = state_of(hass, webhook_harness.sensor)
    assert sensor.state == "idle"
    assert sensor.attributes["active_calls"] == 0
    assert fired == []


async def test_duplicated_deliveries_count_once(
    hass: HomeAssistant, harness: Harness
) -> None:
    harness.duplicate_deliveries()
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    assert state_of(hass, harness.sensor).attributes["active_calls"] == 1
    await harness.act("answer_call")
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"
    await harness.hang_up_remotely(call_id)
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "idle"
    assert sensor.attributes["active_calls"] == 0
    assert fired == ["incoming", "answered", "ended"]


async def test_end_overtaking_the_answer_ends_the_call(
    hass: HomeAssistant, harness: Harness
) -> None:
    fired = record_events(hass, harness.event)
    call_id = await harness.ring()
    harness.hold_deliveries()
    await harness.act("answer_call")
    await harness.hang_up_remotely(call_id)
    await harness.release_deliveries(reverse=True)
    await harness.settle()
    sensor = state_of(hass, harness.sensor)
    assert sensor.state == "idle"
    assert sensor.attributes["active_calls"] == 0
    # Answered here, so ended rather than missed, and never talking again.
    assert fired == ["incoming", "ended"]

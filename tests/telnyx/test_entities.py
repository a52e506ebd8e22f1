"""Snapshots of the entities a Telnyx number gets, idle and ringing."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from tests.const import CALLER, FRONT_DESK
from tests.helpers import BUTTON, SENSOR, HAClient, post_webhook, webhook_body
from tests.simulators.telnyx import TelnyxSimulator


@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.EVENT, Platform.BUTTON])
@pytest.mark.usefixtures("ha_url")
async def test_entities(
    hass: HomeAssistant,
    telnyx_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with patch("custom_components.switchboard.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, telnyx_entry.entry_id)


def ringing_body(application_id: str) -> bytes:
    return webhook_body(
        "call.initiated",
        {
            "call_control_id": "v3:snapshot",
            "call_leg_id": "b0e6224c-c81c-11f0-afbb-02420aef93a0",
            "call_session_id": "b0e6141e-c81c-11f0-abac-02420aef93a0",
            "connection_id": application_id,
            "client_state": "c2VjcmV0IHN0YXRl",
            "caller_id_name": "Ada Lovelace",
            "from": CALLER,
            "to": FRONT_DESK,
            "direction": "incoming",
            "state": "parked",
            "start_time": "2026-11-21T10:00:00.000001Z",
        },
        "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
    )


@pytest.mark.usefixtures("setup_telnyx")
async def test_ringing(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
    application_id: str,
    snapshot: SnapshotAssertion,
) -> None:
    response = await post_webhook(ha_client, telnyx, ringing_body(application_id))
    assert response.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(SENSOR) == snapshot(name="sensor")
    assert hass.states.get(BUTTON) == snapshot(name="button")

"""Snapshots of every provider's entities and diagnostics."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
import json
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from syrupy.assertion import SnapshotAssertion

from tests.helpers import HAClient, state_of

from .harness import Harness

# What changes from run to run in any provider's data: the simulators' ports
# and the clock.
LOOPBACK_PORT = re.compile(r"(127\.0\.0\.1):\d+")
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?"
)


def scrubbed(text: str, volatile: Mapping[str, str]) -> str:
    """`text` with what changes from run to run replaced by stable names."""
    for value, name in volatile.items():
        text = text.replace(value, name)
    text = LOOPBACK_PORT.sub(r"\1:<port>", text)
    return TIMESTAMP.sub("<timestamp>", text)


async def download_diagnostics(
    ha_client: HAClient, access_token: str, entry_id: str
) -> str:
    """Download an entry's diagnostics as a user does; return the JSON text."""
    response = await ha_client.get(
        f"/api/diagnostics/config_entry/{entry_id}",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert response.status == HTTPStatus.OK
    return await response.text()


async def test_entities(
    hass: HomeAssistant,
    harness: Harness,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    entries = er.async_entries_for_config_entry(entity_registry, harness.entry.entry_id)
    assert {harness.sensor, harness.event, harness.button} <= {
        entry.entity_id for entry in entries
    }
    for entry in sorted(entries, key=lambda entry: entry.entity_id):
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert entry.disabled_by is None
        assert state_of(hass, entry.entity_id) == snapshot(
            name=f"{entry.entity_id}-state"
        )


async def test_diagnostics_while_ringing(
    harness: Harness,
    ha_client: HAClient,
    hass_access_token: str,
    snapshot: SnapshotAssertion,
) -> None:
    await harness.ring()
    text = await download_diagnostics(
        ha_client, hass_access_token, harness.entry.entry_id
    )
    for secret in harness.secrets():
        assert secret not in text
    diagnostics: dict[str, Any] = json.loads(scrubbed(text, harness.volatile()))
    assert diagnostics["data"] == snapshot

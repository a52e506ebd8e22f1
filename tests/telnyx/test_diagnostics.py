"""Diagnostics: useful, and without a secret."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_dumps
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.switchboard.diagnostics import (
    async_get_config_entry_diagnostics,
)
from tests.const import WEBHOOK_ID
from tests.helpers import HAClient, post_webhook
from tests.simulators.telnyx import TelnyxSimulator

from .test_entities import ringing_body


@pytest.mark.usefixtures("ha_url")
async def test_diagnostics(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
    application_id: str,
    setup_telnyx: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    await post_webhook(ha_client, telnyx, ringing_body(application_id))
    await hass.async_block_till_done()
    diagnostics = await async_get_config_entry_diagnostics(hass, setup_telnyx)
    # The simulator's port changes from run to run.
    assert diagnostics == snapshot(exclude=props("url"))
    text = json_dumps(diagnostics)  # what the download does
    for secret in (
        telnyx.api_key,
        telnyx.public_key_b64,
        WEBHOOK_ID,
        "c2VjcmV0IHN0YXRl",
    ):
        assert secret not in text

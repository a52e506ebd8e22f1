"""An API URL that does not answer as Telnyx's API is named as such.

Every Telnyx account has a balance (GET /v2/balance): a 404 there means the URL
is not the API's, typically one without /v2. The flow says so, with the form a
URL should have, instead of blaming the key or the application.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import (
    CONF_APPLICATION_ID,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
)
from custom_components.switchboard.providers.model import NotTheApiError
from custom_components.switchboard.providers.telnyx import DEFAULT_URL, TelnyxClient
from tests.helpers import start_flow, suggested
from tests.simulators.telnyx import TelnyxSimulator


def without_v2(telnyx: TelnyxSimulator) -> str:
    """The simulator's address, as a user who left out /v2 enters it."""
    url = telnyx.base_url.removesuffix("/v2")
    assert url != telnyx.base_url
    return url


def keys(telnyx: TelnyxSimulator, url: str) -> dict[str, Any]:
    return {
        CONF_API_KEY: telnyx.api_key,
        CONF_PUBLIC_KEY: telnyx.public_key_b64,
        CONF_URL: url,
    }


def assert_wrong_api_url(result: Any) -> None:
    """The form says the address is not Telnyx's API, and how one looks."""
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_api_url"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["api_name"] == "Telnyx"
    assert placeholders["api_url_example"] == DEFAULT_URL == "https://api.telnyx.com/v2"


@pytest.mark.parametrize("restricted_key", [False, True])
async def test_user_step_names_an_api_url_without_v2(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    restricted_key: bool,
) -> None:
    if restricted_key:
        # A key that may not read the balance is checked on the applications.
        telnyx.fail_next(403, path_contains="/balance")
    result = await start_flow(hass, "telnyx")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], keys(telnyx, without_v2(telnyx))
    )
    assert_wrong_api_url(result)
    assert result["step_id"] == "telnyx"
    # The URL entered is shown back, to be corrected.
    assert suggested(result)[CONF_URL] == without_v2(telnyx)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], keys(telnyx, telnyx.base_url)
    )
    assert result["step_id"] == "application"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_APPLICATION_ID: application_id, CONF_REGISTER_WEBHOOK: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reauth_names_an_api_url_without_v2(
    hass: HomeAssistant, telnyx: TelnyxSimulator, telnyx_entry: MockConfigEntry
) -> None:
    """Not "the application is not in this account": the address is wrong."""
    hass.config_entries.async_update_entry(
        telnyx_entry, data={**telnyx_entry.data, CONF_URL: without_v2(telnyx)}
    )
    result = await telnyx_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: telnyx.api_key, CONF_PUBLIC_KEY: telnyx.public_key_b64},
    )
    assert_wrong_api_url(result)
    assert result["step_id"] == "reauth_telnyx"


async def test_reconfigure_names_an_api_url_without_v2(
    hass: HomeAssistant, telnyx: TelnyxSimulator, telnyx_entry: MockConfigEntry
) -> None:
    result = await telnyx_entry.start_reconfigure_flow(hass)
    changes = {CONF_REGISTER_WEBHOOK: True}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**keys(telnyx, without_v2(telnyx)), **changes}
    )
    assert_wrong_api_url(result)
    assert result["step_id"] == "reconfigure_telnyx"
    assert telnyx_entry.data[CONF_URL] == telnyx.base_url

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**keys(telnyx, telnyx.base_url), **changes}
    )
    assert result["reason"] == "reconfigure_successful"


async def test_the_client_says_what_a_404_on_the_balance_means(
    telnyx: TelnyxSimulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = TelnyxClient(session, telnyx.api_key, base_url=without_v2(telnyx))
        with pytest.raises(NotTheApiError, match="HTTP 404, code 10005"):
            await client.async_validate_key()

"""A URL that does not answer as Genesys Web Services is named as such.

Web Services always answers GET /api/v2/me for a signed-in agent: a "not found"
there means the URL is not Web Services' (a wrong or missing context path).
"""

from __future__ import annotations

from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.fixtures.genesys import genesys_credentials, genesys_reconciled
from tests.helpers import start_flow
from tests.simulators.genesys import GenesysSimulator


@pytest.mark.usefixtures("genesys_fast")
async def test_a_wrong_context_path_is_named(
    hass: HomeAssistant, genesys: GenesysSimulator
) -> None:
    result = await start_flow(hass, "genesys")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        genesys_credentials(genesys, url=f"{genesys.base_url}/cloud-web"),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_api_url"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["api_name"] == "Genesys Web Services"
    assert placeholders["api_url_example"] == "https://gws.example.com"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], genesys_credentials(genesys)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await genesys.wait_for_connected()
    await genesys_reconciled(hass)


@pytest.mark.usefixtures("genesys_fast")
async def test_reconfigure_to_a_wrong_context_path_is_named(
    hass: HomeAssistant, genesys: GenesysSimulator, setup_genesys: MockConfigEntry
) -> None:
    result = await setup_genesys.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        genesys_credentials(genesys, url=f"{genesys.base_url}/cloud-web"),
    )
    assert result["errors"] == {"base": "wrong_api_url"}
    assert setup_genesys.data[CONF_URL] == genesys.base_url

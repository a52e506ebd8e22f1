"""An API URL that does not answer as Webex's API is named as such, not "unknown".

Webex always says who is calling (GET /v1/people/me): a 404 there means the
URL is not the API's, typically one without /v1.
"""

from __future__ import annotations

from http import HTTPStatus

from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.providers import webex as webex_module
from custom_components.switchboard.providers.model import NotTheApiError
from custom_components.switchboard.providers.webex import DEFAULT_URL, WebexClient
from tests.helpers import HAClient, start_flow
from tests.simulators.webex import WebexSimulator
from tests.webex.test_integration import authorize, start_sign_in


def without_v1(webex: WebexSimulator) -> str:
    """The simulator's address, as a user who left out /v1 enters it."""
    url = webex.base_url.removesuffix("/v1")
    assert url != webex.base_url
    return url


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_with_an_api_url_without_v1_goes_nowhere(
    hass: HomeAssistant, ha_client: HAClient, webex: WebexSimulator
) -> None:
    # The sign-in goes to <API URL>/authorize, where there is no sign-in page:
    # no code comes back, and nothing is added.
    result = await start_flow(hass, "webex")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: without_v1(webex)}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith(f"{without_v1(webex)}/authorize?")
    async with ha_client.session.get(result["url"], allow_redirects=False) as page:
        assert page.status >= HTTPStatus.BAD_REQUEST
        assert "Location" not in page.headers
    assert not hass.config_entries.async_entries("switchboard")


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_where_webex_cannot_find_the_person_says_so(
    hass: HomeAssistant, ha_client: HAClient, webex: WebexSimulator
) -> None:
    # A proxy that passes the sign-in on but not the API, say.
    result = await start_sign_in(hass, webex)
    webex.fail_next(404, "/people/me")
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_api_url"
    assert not hass.config_entries.async_entries("switchboard")


async def test_reconfigure_to_an_api_url_without_v1_says_so(
    hass: HomeAssistant, webex: WebexSimulator, setup_webex: MockConfigEntry
) -> None:
    result = await setup_webex.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: without_v1(webex)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_api_url"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["api_name"] == "Webex"
    assert placeholders["api_url_example"] == DEFAULT_URL
    assert setup_webex.data[CONF_URL] == webex.base_url

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: webex.base_url}
    )
    assert result["reason"] == "reconfigure_successful"


async def test_the_account_check_404_is_not_the_api(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    webex.fail_next(404, "/people/me")
    with pytest.raises(NotTheApiError, match="could not be found") as raised:
        await webex_client.async_get_account()
    assert isinstance(raised.value.__cause__, webex_module._NotFoundError)


async def test_a_404_elsewhere_is_still_not_found(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    webex.fail_next(404, "/webhooks")
    with pytest.raises(webex_module._NotFoundError) as raised:
        await webex_client.async_get_webhook_url()
    assert type(raised.value) is webex_module._NotFoundError

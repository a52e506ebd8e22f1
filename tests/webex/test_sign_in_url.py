"""The Webex sign-in follows the entry's API URL: authorize, code exchange, refresh.

A regional Webex, a proxy or the simulator serves its own OAuth endpoints under
its API base; webexapis.com is only the default.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from homeassistant.components.application_credentials import (
    AuthorizationServer,
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.application_credentials import (
    async_get_authorization_server,
    webex_sign_in_at,
)
from custom_components.switchboard.const import DOMAIN
from tests.helpers import HAClient, start_flow
from tests.simulators.webex import WebexSimulator
from tests.webex.test_integration import authorize, start_sign_in

WEBEXAPIS_AUTHORIZE = "https://webexapis.com/v1/authorize"
WEBEXAPIS_TOKEN = "https://webexapis.com/v1/access_token"
UNREACHABLE = "http://127.0.0.1:9/v1"


def token_grants(webex: WebexSimulator, grant_type: str) -> list[dict[str, Any]]:
    """The token requests of one grant type that reached the simulator."""
    path = urlsplit(webex.token_url).path
    return [
        request.body
        for request in webex.requests
        if request.method == "POST"
        and request.path == path
        and request.body.get("grant_type") == grant_type
    ]


def expire(hass: HomeAssistant, entry: MockConfigEntry, webex: WebexSimulator) -> str:
    """Let the entry's access token run out; return its refresh token."""
    token = entry.data["token"]
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**token, "expires_at": 0}}
    )
    webex.expire_access_tokens()
    return str(token["refresh_token"])


def authorize_query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_and_refresh_go_to_the_api_url(
    hass: HomeAssistant, ha_client: HAClient, ha_url: str, webex: WebexSimulator
) -> None:
    del ha_url
    result = await start_sign_in(hass, webex)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith(f"{webex.authorize_url}?")
    assert authorize_query(result["url"])["client_id"] == [webex.client_id]

    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    [exchange] = token_grants(webex, "authorization_code")
    assert exchange["client_id"] == webex.client_id
    entry = result["result"]
    assert entry.data["token"]["access_token"] in webex.tokens
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert token_grants(webex, "refresh_token") == []

    refresh_token = expire(hass, entry, webex)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    [refresh] = token_grants(webex, "refresh_token")
    assert refresh["refresh_token"] == refresh_token
    assert entry.data["token"]["access_token"] in webex.tokens


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_sign_in_without_an_api_url_goes_to_webexapis(
    hass: HomeAssistant, webex: WebexSimulator
) -> None:
    result = await start_flow(hass, "webex")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith(f"{WEBEXAPIS_AUTHORIZE}?")
    assert authorize_query(result["url"])["client_id"] == [webex.client_id]
    assert webex.requests == []


async def test_webexapis_is_the_default_sign_in(hass: HomeAssistant) -> None:
    for server in (
        await async_get_authorization_server(hass),
        await _server_at(hass, None),
    ):
        assert server.authorize_url == WEBEXAPIS_AUTHORIZE
        assert server.token_url == WEBEXAPIS_TOKEN
    server = await _server_at(hass, "https://webex.example/proxy/v1/")
    assert server.authorize_url == "https://webex.example/proxy/v1/authorize"
    assert server.token_url == "https://webex.example/proxy/v1/access_token"


async def _server_at(hass: HomeAssistant, api_url: str | None) -> AuthorizationServer:
    with webex_sign_in_at(api_url):
        return await async_get_authorization_server(hass)


@pytest.mark.usefixtures("webex_credentials", "current_request_with_host")
async def test_picking_one_of_several_credentials_keeps_the_api_url(
    hass: HomeAssistant, ha_client: HAClient, webex: WebexSimulator
) -> None:
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential("another-client", "another-secret", "Another Webex app"),
        auth_domain="another",
    )
    result = await start_sign_in(hass, webex)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pick_implementation"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"implementation": DOMAIN}
    )
    assert result["url"].startswith(f"{webex.authorize_url}?")
    result = await authorize(hass, ha_client, webex, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(token_grants(webex, "authorization_code")) == 1


@pytest.mark.usefixtures("current_request_with_host")
async def test_reauth_signs_in_at_the_entry_api_url(
    hass: HomeAssistant,
    ha_client: HAClient,
    webex: WebexSimulator,
    setup_webex: MockConfigEntry,
) -> None:
    result = await setup_webex.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith(f"{webex.authorize_url}?")
    result = await authorize(hass, ha_client, webex, result)
    assert result["reason"] == "reauth_successful"
    assert len(token_grants(webex, "authorization_code")) == 1
    assert setup_webex.data["token"]["access_token"] in webex.tokens


async def test_reconfigure_refreshes_at_the_new_api_url(
    hass: HomeAssistant,
    ha_url: str,
    webex: WebexSimulator,
    webex_entry: MockConfigEntry,
) -> None:
    del ha_url
    refresh_token = expire(hass, webex_entry, webex)
    hass.config_entries.async_update_entry(
        webex_entry, data={**webex_entry.data, CONF_URL: UNREACHABLE}
    )
    result = await webex_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: webex.base_url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert webex_entry.data[CONF_URL] == webex.base_url
    refreshes = token_grants(webex, "refresh_token")
    assert refreshes
    assert {grant["refresh_token"] for grant in refreshes} == {refresh_token}
    await hass.async_block_till_done()
    assert webex_entry.state is ConfigEntryState.LOADED

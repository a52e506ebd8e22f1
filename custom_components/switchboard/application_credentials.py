"""Webex sign-in through Home Assistant's application credentials."""

from __future__ import annotations

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .providers import webex


async def async_get_authorization_server(
    hass: HomeAssistant,  # noqa: ARG001
) -> AuthorizationServer:
    """Return Webex's OAuth2 authorize and token endpoints."""
    return AuthorizationServer(
        authorize_url=webex.AUTHORIZE_URL, token_url=webex.TOKEN_URL
    )


async def async_get_description_placeholders(
    hass: HomeAssistant,  # noqa: ARG001
) -> dict[str, str]:
    """Tell the user where the client ID and secret come from."""
    return {
        "developer_portal": "https://developer.webex.com/my-apps",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }

"""Webex sign-in through Home Assistant's application credentials.

The sign-in goes to the Webex of the entry's API URL (a regional Webex, a
proxy, the simulator), not always to webexapis.com. Home Assistant builds an
application credential's OAuth2 implementation afresh each time one is asked
for, from `async_get_authorization_server`, and that hook knows nothing of the
flow or the entry. So whoever asks names the API URL around the request with
`webex_sign_in_at`: the config flow around picking the implementation, set-up
and the reconfigure check around `async_get_config_entry_implementation`. The
implementation then keeps those URLs for the flow's code exchange and for the
entry's refreshes. Home Assistant's own MCP integration does the same.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .providers import webex

_SIGN_IN_API_URL: ContextVar[str] = ContextVar(
    "switchboard_webex_sign_in_api_url", default=webex.DEFAULT_URL
)


@contextmanager
def webex_sign_in_at(api_url: str | None) -> Generator[None]:
    """Sign in to the Webex whose API is at `api_url` (None: webexapis.com)."""
    token = _SIGN_IN_API_URL.set(api_url or webex.DEFAULT_URL)
    try:
        yield
    finally:
        _SIGN_IN_API_URL.reset(token)


async def async_get_authorization_server(
    hass: HomeAssistant,  # noqa: ARG001
) -> AuthorizationServer:
    """Return the authorize and token endpoints of the Webex being signed in to."""
    api_url = _SIGN_IN_API_URL.get()
    return AuthorizationServer(
        authorize_url=webex.authorize_url(api_url), token_url=webex.token_url(api_url)
    )


async def async_get_description_placeholders(
    hass: HomeAssistant,  # noqa: ARG001
) -> dict[str, str]:
    """Tell the user where the client ID and secret come from."""
    return {
        "developer_portal": "https://developer.webex.com/my-apps",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }

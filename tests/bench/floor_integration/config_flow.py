"""Added by the bench through the config-flow REST API, as Switchboard is."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
import probatio as vol

from . import CONF_NUMBERS, CONF_PUBLIC_KEY, CONF_WRITES, DOMAIN

SCHEMA = vol.Schema(
    {
        vol.Required(CONF_API_KEY): str,
        vol.Required(CONF_URL): str,
        vol.Required(CONF_PUBLIC_KEY): str,
        vol.Required(CONF_NUMBERS): str,
        vol.Required(CONF_WEBHOOK_ID): str,
        vol.Optional(CONF_WRITES, default="1"): str,
    }
)


class FloorConfigFlow(ConfigFlow, domain=DOMAIN):
    """One step: everything at once."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the settings; a floor entry per webhook id."""
        if user_input is None:
            return self.async_show_form(step_id="user", data_schema=SCHEMA)
        await self.async_set_unique_id(user_input[CONF_WEBHOOK_ID])
        self._abort_if_unique_id_configured()
        numbers = len(user_input[CONF_NUMBERS].split(","))
        return self.async_create_entry(title=f"Floor of {numbers}", data=user_input)

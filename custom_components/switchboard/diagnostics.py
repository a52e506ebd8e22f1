"""Diagnostics: the entry, its devices and live calls, with secrets redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import (
    CONF_API_KEY,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_USERNAME,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import HomeAssistant

from .const import (
    CONF_CLOUDHOOK_URL,
    CONF_PREVIOUS_URL,
    CONF_PUBLIC_KEY,
    CONF_REGISTERED_URL,
    CONF_WEBHOOK_SECRET,
)
from .data import SwitchboardConfigEntry

TO_REDACT = {
    CONF_API_KEY,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_USERNAME,
    CONF_WEBHOOK_SECRET,
    "callbackUri",
    CONF_PUBLIC_KEY,
    CONF_WEBHOOK_ID,
    CONF_CLOUDHOOK_URL,
    CONF_REGISTERED_URL,
    CONF_PREVIOUS_URL,
    "client_state",
    "delivered_to",
    "webhook_url",
    "stream_auth_token",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
) -> dict[str, Any]:
    """Return what helps find a problem, and no secret."""
    runtime = entry.runtime_data
    return {
        "entry": async_redact_data(dict(entry.data), TO_REDACT),
        "devices": [asdict(device) for device in runtime.devices.values()],
        "calls": [
            async_redact_data(
                {**asdict(call), "actions": sorted(call.actions)}, TO_REDACT
            )
            for call in runtime.calls.live_calls()
        ],
    }

"""Diagnostics: the entry, its devices and live calls, with secrets redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import CONF_CLOUDHOOK_URL, CONF_PREVIOUS_URL, CONF_REGISTERED_URL
from .hub import SwitchboardConfigEntry
from .kinds import kind_of

# What every entry with a webhook holds; the kinds add their own secrets.
WEBHOOK_KEYS = frozenset(
    {CONF_WEBHOOK_ID, CONF_CLOUDHOOK_URL, CONF_REGISTERED_URL, CONF_PREVIOUS_URL}
)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
) -> dict[str, Any]:
    """Return what helps find a problem, and no secret."""
    hub = entry.runtime_data
    to_redact = WEBHOOK_KEYS | kind_of(entry.data).redact_keys
    return {
        "entry": async_redact_data(dict(entry.data), to_redact),
        "devices": [asdict(device) for device in hub.devices.values()],
        "calls": [
            async_redact_data(
                {**asdict(call), "actions": sorted(call.actions)}, to_redact
            )
            for call in hub.calls.live_calls()
        ],
    }

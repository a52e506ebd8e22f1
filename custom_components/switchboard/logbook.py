"""One logbook line per call stage (and keys pressed), naming the device and caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import (
    ATTR_CALLER,
    ATTR_DIGITS,
    ATTR_EVENT_TYPE,
    DOMAIN,
    EVENT_CALL_ACTIVITY,
)

# Home Assistant's logbook takes plain text; like its own integrations, the
# lines are in English.
MESSAGES = {
    "incoming": "incoming call from {caller}",
    "answered": "answered the call from {caller}",
    "ended": "call with {caller} ended",
    "missed": "missed a call from {caller}",
    "digits": "{caller} pressed {digits}",
}
UNKNOWN_CALLER = "an unknown caller"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe the call stages."""

    @callback
    def async_describe(event: Event) -> dict[str, Any]:
        data = event.data
        device = dr.async_get(hass).async_get(data.get(ATTR_DEVICE_ID) or "")
        name = (device.name_by_user or device.name) if device else None
        template = MESSAGES.get(str(data.get(ATTR_EVENT_TYPE)), "{caller}")
        return {
            LOGBOOK_ENTRY_NAME: name or "Switchboard",
            LOGBOOK_ENTRY_MESSAGE: template.format(
                caller=data.get(ATTR_CALLER) or UNKNOWN_CALLER,
                digits=data.get(ATTR_DIGITS) or "",
            ),
            LOGBOOK_ENTRY_ENTITY_ID: data.get(ATTR_ENTITY_ID),
        }

    async_describe_event(DOMAIN, EVENT_CALL_ACTIVITY, async_describe)

"""Expose each new Call sensor to Assist, so voice works right after set-up.

Home Assistant exposes no enum sensor to Assist by default, and voice answers
only on phones whose Call sensor is exposed. A Call sensor is therefore exposed
when it is created, if Assist takes new entities (Settings → Voice assistants →
Expose new entities, on by default) and nothing was decided for it yet. The
user's choice stands from then on: an unexposed sensor stays unexposed.
"""

from __future__ import annotations

from homeassistant.components.homeassistant.const import DATA_EXPOSED_ENTITIES
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from ..const import DOMAIN
from ..sensor import CALL_SENSOR

# Assist: the conversation integration, whose domain is its assistant id. Not
# imported from it: importing it needs its requirements, there or not.
ASSIST = "conversation"


@callback
def async_expose_new_call_sensors(hass: HomeAssistant) -> CALLBACK_TYPE:
    """Expose every Call sensor created from now on to Assist."""

    @callback
    def _created(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        entry = er.async_get(hass).async_get(event.data["entity_id"])
        exposed_entities = hass.data.get(DATA_EXPOSED_ENTITIES)
        if (
            entry is None
            or exposed_entities is None
            or entry.platform != DOMAIN
            or entry.domain != SENSOR_DOMAIN
            or entry.translation_key != CALL_SENSOR.translation_key
            or ASSIST in entry.options
            or not exposed_entities.async_get_expose_new_entities(ASSIST)
        ):
            return
        async_expose_entity(hass, ASSIST, entry.entity_id, should_expose=True)

    @callback
    def _is_creation(data: er.EventEntityRegistryUpdatedData) -> bool:
        return data["action"] == "create"

    return hass.bus.async_listen(
        er.EVENT_ENTITY_REGISTRY_UPDATED, _created, event_filter=_is_creation
    )

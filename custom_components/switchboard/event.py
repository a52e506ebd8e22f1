"""The `call` event entity: incoming, answered, ended and missed calls."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .calls import CallChange, CallEventType
from .entity import SwitchboardEntity, call_attributes
from .hub import SwitchboardConfigEntry

PARALLEL_UPDATES = 0

CALL_EVENT = EventEntityDescription(
    key="call",
    translation_key="call",
    event_types=[event_type.value for event_type in CallEventType],
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One call event entity per device."""
    async_add_entities(
        CallEventEntity(entry, device, CALL_EVENT)
        for device in entry.runtime_data.devices.values()
    )


class CallEventEntity(SwitchboardEntity, EventEntity):
    """Fires when a call of the device starts ringing, is answered or ends."""

    @callback
    def _async_call_changed(self, change: CallChange) -> None:
        """Fire for a change a user cares about; nothing else is worth a write."""
        if change.event_type is None:
            return
        self._trigger_event(change.event_type.value, call_attributes(change.call))
        self.async_write_ha_state()

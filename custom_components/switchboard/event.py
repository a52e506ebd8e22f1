"""The `call` event entity ("Call activity"): incoming, answered, ended, missed.

Where the provider reports the keys a caller presses, also `digits`, with the
keys in the `digits` attribute. Each stage also goes on the bus as
`switchboard_call_activity`, which the logbook describes in one line that
names the caller.
"""

from __future__ import annotations

import dataclasses

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .calls import CallChange, CallEventType
from .const import ATTR_CALLER, ATTR_DIGITS, ATTR_EVENT_TYPE, EVENT_CALL_ACTIVITY
from .entity import (
    SwitchboardEntity,
    async_add_device_entities,
    call_attributes,
    caller_of,
)
from .hub import SwitchboardConfigEntry

PARALLEL_UPDATES = 0

CALL_EVENT = EventEntityDescription(
    key="call",
    translation_key="call",
    event_types=[
        event_type.value
        for event_type in CallEventType
        if event_type is not CallEventType.DIGITS
    ],
)
# Where the provider reports the keys a caller presses.
CALL_EVENT_WITH_DIGITS = dataclasses.replace(
    CALL_EVENT, event_types=[event_type.value for event_type in CallEventType]
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One call event entity per device, and per device that appears."""
    description = (
        CALL_EVENT_WITH_DIGITS
        if entry.runtime_data.provider.reports_digits
        else CALL_EVENT
    )
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda device: (CallEventEntity(entry, device, description),),
    )


class CallEventEntity(SwitchboardEntity, EventEntity):
    """Fires when a call of the device rings, is answered, ends or hears keys."""

    @callback
    def _async_call_changed(self, change: CallChange) -> None:
        """Fire for a change a user cares about; nothing else is worth a write."""
        if change.event_type is None:
            return
        attributes = call_attributes(change.call)
        if change.event_type is CallEventType.DIGITS:
            if CallEventType.DIGITS not in self.event_types:
                # Keys from a provider that says it reports none: no event type.
                return
            attributes[ATTR_DIGITS] = change.digits
        self._trigger_event(change.event_type.value, attributes)
        self.async_write_in_news_context()
        self.hass.bus.async_fire_internal(
            EVENT_CALL_ACTIVITY,
            {
                ATTR_DEVICE_ID: self.device_entry.id if self.device_entry else None,
                ATTR_ENTITY_ID: self.entity_id,
                ATTR_EVENT_TYPE: change.event_type.value,
                ATTR_CALLER: caller_of(change.call),
                **attributes,
            },
            context=self.hub.news_context,
        )

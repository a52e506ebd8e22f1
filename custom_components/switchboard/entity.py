"""The base of every Switchboard entity: one device, kept current by its calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .calls import CallChange, CallEventType
from .const import DOMAIN
from .devices import device_identifier
from .hub import SwitchboardConfigEntry, SwitchboardHub
from .providers.model import Call, Device


def call_attributes(call: Call | None) -> dict[str, Any]:
    """Return the call's id and parties, as the sensor and the event show them."""
    return {
        "call_id": call.call_id if call else None,
        "direction": call.direction.value if call else None,
        "remote_number": call.remote_number if call else None,
        "remote_name": call.remote_name if call else None,
        "local_number": call.local_number if call else None,
    }


def caller_of(call: Call | None) -> str | None:
    """Return the far party as a user reads it: "Name (number)", or what is known."""
    if call is None:
        return None
    name, number = call.remote_name, call.remote_number
    if name and number and name != number:
        return f"{name} ({number})"
    return name or number


@callback
def async_add_device_entities(
    entry: SwitchboardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[Device], Iterable[Entity]],
) -> None:
    """Add `build`'s entities for every device, now and as devices appear."""

    @callback
    def _add(devices: Iterable[Device]) -> None:
        async_add_entities(entity for device in devices for entity in build(device))

    _add(entry.runtime_data.devices.values())
    entry.async_on_unload(entry.runtime_data.roster.async_subscribe_new(_add))


class SwitchboardEntity(Entity):
    """An entity of one provider device.

    It hears only its own device's calls, and writes its state only when what
    it shows changed: an event costs each entity nothing it does not show.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    # False for an entity whose state no call changes (the buttons).
    _follows_calls = True

    def __init__(
        self,
        entry: SwitchboardConfigEntry,
        device: Device,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its device."""
        self.entity_description = description
        self.device = device
        self.hub: SwitchboardHub = entry.runtime_data
        identifier = device_identifier(entry, device)
        self._attr_unique_id = f"{identifier}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, identifier)},
            name=device.name,
            model=device.model,
            manufacturer=self.hub.provider_name,
        )
        self._shown: tuple[Any, ...] | None = None

    @property
    def available(self) -> bool:
        """Unavailable while the provider's event stream is down."""
        return self.hub.available

    def shown(self) -> tuple[Any, ...]:
        """Return what the entity shows; a change of it is worth a state write."""
        return (self.available,)

    async def async_added_to_hass(self) -> None:
        """Follow the calls of this device, and the hub's availability."""
        await super().async_added_to_hass()
        if self._follows_calls:
            self.async_on_remove(
                self.hub.async_subscribe_device(
                    self.device.device_id, self._async_call_changed
                )
            )
        self.async_on_remove(
            self.hub.async_subscribe_availability(self.async_write_if_changed)
        )
        # Home Assistant writes the first state right after this returns.
        self._shown = self.shown()

    @callback
    def _async_call_changed(self, change: CallChange) -> None:
        if change.event_type is CallEventType.DIGITS:
            # Keys pressed leave the call as it was: nothing a state shows.
            return
        self._handle_call_change(change)
        self.async_write_if_changed()

    @callback
    def _handle_call_change(self, change: CallChange) -> None:
        """Take in a change of one of this device's calls."""

    @callback
    def async_write_if_changed(self) -> None:
        """Write the state only when what the entity shows changed."""
        shown = self.shown()
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()

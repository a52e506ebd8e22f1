"""The base of every Switchboard entity: one device, kept current by its calls."""

from __future__ import annotations

from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .calls import CallChange
from .const import CONF_PROVIDER, DOMAIN, PROVIDER_NAMES
from .data import SwitchboardConfigEntry, SwitchboardData
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


def device_identifier(entry: SwitchboardConfigEntry, device: Device) -> str:
    """Return the device registry identifier of a provider device."""
    return f"{entry.unique_id}_{device.device_id}"


class SwitchboardEntity(Entity):
    """An entity of one provider device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        entry: SwitchboardConfigEntry,
        device: Device,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its device."""
        self.entity_description = description
        self.device = device
        self.runtime: SwitchboardData = entry.runtime_data
        identifier = device_identifier(entry, device)
        self._attr_unique_id = f"{identifier}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, identifier)},
            name=device.name,
            model=device.model,
            manufacturer=PROVIDER_NAMES[entry.data[CONF_PROVIDER]],
        )

    @property
    def available(self) -> bool:
        """Unavailable while the provider's event stream is down."""
        return self.runtime.stream is None or self.runtime.stream.connected

    async def async_added_to_hass(self) -> None:
        """Follow the calls of this device, and the stream's ups and downs."""
        await super().async_added_to_hass()
        self.async_on_remove(self.runtime.calls.listen(self._async_call_changed))
        if self.runtime.stream is not None:
            self.async_on_remove(self.runtime.stream.listen(self.async_write_ha_state))

    @callback
    def _async_call_changed(self, change: CallChange) -> None:
        if self.device.device_id in change.call.device_ids:
            self._handle_call_change(change)
            self.async_write_ha_state()
        elif self.device.device_id in change.left_devices:
            self.async_write_ha_state()

    @callback
    def _handle_call_change(self, change: CallChange) -> None:
        """Take in a change of one of this device's calls."""

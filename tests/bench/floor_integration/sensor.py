"""One sensor per number: the state of its last call."""

from __future__ import annotations

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import CONF_NUMBERS, FloorConfigEntry


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FloorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A sensor per number of the entry."""
    del hass
    numbers = entry.data[CONF_NUMBERS].split(",")
    sensors = {number: FloorSensor(entry.entry_id, number) for number in numbers}
    entry.runtime_data.sensors = sensors
    async_add_entities(sensors.values())


class FloorSensor(SensorEntity):
    """`idle`, `ringing` or `talking`, with the call id."""

    _attr_should_poll = False

    def __init__(self, entry_id: str, number: str) -> None:
        """Name the sensor after its number."""
        self._attr_unique_id = f"{entry_id}_{number}"
        self._attr_name = f"Floor {number}"
        self._attr_native_value = "idle"
        self._attr_extra_state_attributes = {"call_id": None}

    def show(self, state: str, call_id: str) -> None:
        """Write the one state of a delivery."""
        self._attr_native_value = state
        self._attr_extra_state_attributes = {"call_id": call_id}
        self.async_write_ha_state()

"""One sensor per number: the state of its last call."""

from __future__ import annotations

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import AS_SWITCHBOARD, CONF_NUMBERS, CONF_WRITES, FloorConfigEntry


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FloorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A sensor per number of the entry."""
    del hass
    numbers = entry.data[CONF_NUMBERS].split(",")
    shows = 4 if entry.data.get(CONF_WRITES) == AS_SWITCHBOARD else 1
    sensors = {
        number: [FloorSensor(entry.entry_id, number, index) for index in range(shows)]
        for number in numbers
    }
    entry.runtime_data.sensors = sensors
    async_add_entities(sensor for row in sensors.values() for sensor in row)


class FloorSensor(SensorEntity):
    """`idle`, `ringing` or `talking`, with the call id."""

    _attr_should_poll = False

    def __init__(self, entry_id: str, number: str, index: int = 0) -> None:
        """Name the sensor after its number (and its place, past the first)."""
        suffix = f"_{index}" if index else ""
        self._attr_unique_id = f"{entry_id}_{number}{suffix}"
        self._attr_name = f"Floor {number}{suffix.replace('_', ' ')}"
        self._attr_native_value = "idle"
        self._attr_extra_state_attributes = {"call_id": None}

    def show(self, state: str, call_id: str) -> None:
        """Write the one state of a delivery."""
        self._attr_native_value = state
        self._attr_extra_state_attributes = {"call_id": call_id}
        self.async_write_ha_state()

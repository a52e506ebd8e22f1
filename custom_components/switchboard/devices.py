"""The devices of an entry: listed at set-up, then followed while it runs.

A number, endpoint or agent device added at the provider appears without a
reload (on the periodic re-list, or as soon as an event names it); one the
provider no longer lists leaves the device registry, and its entities with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, LOGGER
from .providers.base import Provider
from .providers.model import Device, ProviderError

type NewDevicesListener = Callable[[list[Device]], None]


def device_identifier(entry: ConfigEntry[Any], device: Device) -> str:
    """Return the device registry identifier of a provider device."""
    return f"{entry.unique_id}_{device.device_id}"


class DeviceRoster:
    """The provider devices of one entry, kept in step with the provider."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], provider: Provider
    ) -> None:
        """Start with no device, until the first read."""
        self._hass = hass
        self._entry = entry
        self._provider = provider
        self.devices: dict[str, Device] = {}
        self._listeners: list[NewDevicesListener] = []
        self._refreshing = False

    async def async_read(self) -> None:
        """List the provider's devices; raises ProviderError."""
        listed = await self._provider.async_get_devices()
        self.devices.clear()
        self.devices.update((device.device_id, device) for device in listed)

    def identifiers(self) -> set[tuple[str, str]]:
        """Return the device registry identifiers of the devices listed now."""
        return {
            (DOMAIN, device_identifier(self._entry, device))
            for device in self.devices.values()
        }

    def knows(self, device_ids: Iterable[str]) -> bool:
        """Tell whether every one of `device_ids` is a listed device."""
        return all(device_id in self.devices for device_id in device_ids)

    @callback
    def async_subscribe_new(self, listener: NewDevicesListener) -> CALLBACK_TYPE:
        """Tell `listener` of the devices that appear from now on."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_remove_stale(self) -> None:
        """Drop registry devices whose number or endpoint the provider dropped."""
        registry = dr.async_get(self._hass)
        current = self.identifiers()
        for entry in dr.async_entries_for_config_entry(registry, self._entry.entry_id):
            if not entry.identifiers & current:
                registry.async_remove_device(entry.id)

    @callback
    def async_schedule_refresh(self) -> None:
        """List the devices again soon, once however often it is asked."""
        if self._refreshing:
            return
        self._refreshing = True
        # A short job (one listing), so a task Home Assistant waits for.
        self._entry.async_create_task(
            self._hass, self.async_refresh(), "switchboard devices"
        )

    async def async_refresh(self) -> None:
        """List the devices again: add the new ones, drop the ones gone."""
        try:
            listed = await self._provider.async_get_devices()
        except ProviderError as err:
            LOGGER.debug("Could not list the devices of %s: %s", self._entry.title, err)
            return
        finally:
            self._refreshing = False
        now = {device.device_id: device for device in listed}
        new = [
            device for device_id, device in now.items() if device_id not in self.devices
        ]
        gone = [device_id for device_id in self.devices if device_id not in now]
        if not new and not gone:
            return
        self.devices.clear()
        self.devices.update(now)
        LOGGER.debug(
            "%s: %d devices added, %d gone", self._entry.title, len(new), len(gone)
        )
        self.async_remove_stale()
        for listener in list(self._listeners):
            listener(new)

"""The base of every Switchboard entity: one device, kept current by its calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import HomeAssistant, callback, split_entity_id
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.hass_dict import HassKey

from .calls import CallChange, CallEventType
from .const import DOMAIN
from .devices import device_identifier
from .hub import SwitchboardConfigEntry, SwitchboardHub
from .providers.model import Call, Device

type DeviceKey = tuple[str, str]  # (config entry id, provider device id)


class EntityIndex:
    """Switchboard's entities by entity id and by device, for the actions.

    An action names entity ids, devices or areas; finding the call sensor of
    each named device here costs the same with one device or a thousand.
    """

    def __init__(self) -> None:
        """Know no entity yet."""
        self.by_id: dict[str, SwitchboardEntity] = {}
        self.by_device: dict[DeviceKey, list[SwitchboardEntity]] = {}

    @callback
    def add(self, entity: SwitchboardEntity) -> Callable[[], None]:
        """Index an entity Home Assistant added; return what forgets it."""
        entity_id, key = entity.entity_id, entity.device_key
        self.by_id[entity_id] = entity
        on_device = self.by_device.setdefault(key, [])
        on_device.append(entity)

        def _forget() -> None:
            if self.by_id.get(entity_id) is entity:
                del self.by_id[entity_id]
            on_device.remove(entity)
            if not on_device:
                del self.by_device[key]

        return _forget

    def of_device[EntityT: SwitchboardEntity](
        self, key: DeviceKey, kind: type[EntityT]
    ) -> EntityT | None:
        """Return the device's entity of `kind`, if Home Assistant has added it."""
        return next(
            (e for e in self.by_device.get(key, ()) if isinstance(e, kind)), None
        )

    def devices_named(self, entity_ids: Iterable[str], domain: str) -> set[DeviceKey]:
        """Return the devices of the `domain` entities among `entity_ids`."""
        return {
            entity.device_key
            for entity_id in entity_ids
            if split_entity_id(entity_id)[0] == domain
            and (entity := self.by_id.get(entity_id)) is not None
        }


DATA_ENTITIES: HassKey[EntityIndex] = HassKey(f"{DOMAIN}_entities")


def entity_index(hass: HomeAssistant) -> EntityIndex:
    """Return Switchboard's entity index, empty until an entity is added."""
    return hass.data.setdefault(DATA_ENTITIES, EntityIndex())


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
    # False for an entity whose state neither calls nor the hub's
    # availability change (the buttons).
    _follows_hub = True

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

    @property
    def device_key(self) -> DeviceKey:
        """The entry and the provider's device this entity belongs to."""
        return (self.hub.entry.entry_id, self.device.device_id)

    async def async_added_to_hass(self) -> None:
        """Follow the calls of this device, and the hub's availability."""
        await super().async_added_to_hass()
        self.async_on_remove(entity_index(self.hass).add(self))
        if self._follows_hub:
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
        if self._handle_call_change(change):
            self.async_write_if_changed()

    @callback
    def _handle_call_change(self, change: CallChange) -> bool:
        """Take in a change of one of this device's calls.

        Return False for a change the entity shows nothing of: it is then
        not even compared with what it showed.
        """
        del change
        return False

    @callback
    def async_write_if_changed(self) -> None:
        """Write the state only when what the entity shows changed."""
        shown = self.shown()
        if shown != self._shown:
            self._shown = shown
            self.async_write_in_news_context()

    @callback
    def async_write_in_news_context(self) -> None:
        """Write the state, in the context of the provider news being applied."""
        if (context := self.hub.news_context) is not None:
            self.async_set_context(context)
        self.async_write_ha_state()

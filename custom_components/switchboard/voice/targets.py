"""The phones voice can reach, and finding the one a user names.

A phone is one Switchboard device of a loaded entry. Voice acts only on the
phones whose Call sensor is exposed to the assistant that asks. A user names
a phone by its device name, its area, or the name or an alias of its Call
sensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.homeassistant.exposed_entities import (
    async_should_expose,
)
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_platform,
    entity_registry as er,
)
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..devices import device_identifier
from ..hub import SwitchboardHub
from ..providers.model import Device
from ..sensor import CALL_SENSOR, MissedCallsSensor
from .phrases import Phrases, normalize


@dataclass(frozen=True, slots=True)
class Phone:
    """A Switchboard device as voice sees it."""

    hub: SwitchboardHub
    device: Device
    # The name the user gave the device, or the provider's.
    name: str
    device_entry_id: str
    area_id: str | None
    call_sensor: str
    exposed: bool


def call_sensor_unique_id(hub: SwitchboardHub, device: Device) -> str:
    """Return the unique id of a device's Call sensor."""
    return f"{device_identifier(hub.entry, device)}_{CALL_SENSOR.key}"


@callback
def async_phones(hass: HomeAssistant, assistant: str | None) -> list[Phone]:
    """Return the phones of every loaded entry that has its Call sensor.

    With an `assistant`, a phone is exposed when its Call sensor is exposed to
    it; without one (an intent sent straight to Home Assistant), every phone is.
    """
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    phones: list[Phone] = []
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        hub: SwitchboardHub = entry.runtime_data
        for device in hub.devices.values():
            device_entry = devices.async_get_device_by_identifier(
                (DOMAIN, device_identifier(entry, device)), entry.entry_id
            )
            sensor = entities.async_get_entity_id(
                SENSOR_DOMAIN, DOMAIN, call_sensor_unique_id(hub, device)
            )
            if device_entry is None or sensor is None:
                continue  # Not among the entry's entities (yet).
            exposed = assistant is None or async_should_expose(hass, assistant, sensor)
            phones.append(
                Phone(
                    hub=hub,
                    device=device,
                    name=device_entry.name_by_user or device_entry.name or device.name,
                    device_entry_id=device_entry.id,
                    area_id=device_entry.area_id,
                    call_sensor=sensor,
                    exposed=exposed,
                )
            )
    return phones


@dataclass(frozen=True, slots=True)
class MissedCalls:
    """What a phone's missed-call counter shows."""

    phone: Phone
    count: int
    # "Name (number)", as the counter shows it.
    last_caller: str | None
    last_missed_at: datetime | None


def _moment(value: object) -> datetime | None:
    """Read a time the counter keeps as an ISO string, in UTC."""
    moment = dt_util.parse_datetime(value) if isinstance(value, str) else None
    return dt_util.as_utc(moment) if moment else None


@callback
def async_missed_calls(
    hass: HomeAssistant, phones: Sequence[Phone]
) -> list[MissedCalls]:
    """Return the missed-call count of each of `phones` that has its counter.

    Read from the counter itself, not its state: the count stands while the
    provider's event stream is down and the sensor shows unavailable.
    """
    counters: dict[tuple[str, str], MissedCallsSensor] = {}
    for platform in entity_platform.async_get_platforms(hass, DOMAIN):
        for entity in platform.entities.values():
            if isinstance(entity, MissedCallsSensor):
                key = (entity.hub.entry.entry_id, entity.device.device_id)
                counters[key] = entity
    found: list[MissedCalls] = []
    for phone in phones:
        counter = counters.get((phone.hub.entry.entry_id, phone.device.device_id))
        if counter is None or not isinstance(count := counter.native_value, int):
            continue  # Disabled, or not added yet.
        attributes = counter.extra_state_attributes or {}
        last_caller = attributes.get("last_caller")
        found.append(
            MissedCalls(
                phone=phone,
                count=count,
                last_caller=last_caller if isinstance(last_caller, str) else None,
                last_missed_at=_moment(attributes.get("last_missed_at")),
            )
        )
    return found


def _names(hass: HomeAssistant, phone: Phone) -> Iterable[str]:
    """Every name a user may call `phone` by."""
    yield phone.name
    yield phone.device.name
    if phone.area_id and (area := ar.async_get(hass).async_get_area(phone.area_id)):
        yield area.name
        yield from area.aliases
    if sensor := er.async_get(hass).async_get(phone.call_sensor):
        yield from er.async_get_entity_aliases(hass, sensor, allow_empty=False)


@callback
def async_find_phones(
    hass: HomeAssistant, phones: Sequence[Phone], spoken: str, phrases: Phrases
) -> list[Phone]:
    """Return the phones `spoken` names, exposed or not.

    A name that matches as said wins; otherwise the language's filler words
    ("the", "phone", "line") are left out on both sides, so "the kitchen
    phone" finds the phone in the Kitchen.
    """
    names = {phone: [*_names(hass, phone)] for phone in phones}
    said = normalize(spoken)
    exact = [
        phone
        for phone, known in names.items()
        if any(normalize(name) == said for name in known)
    ]
    if exact or not (bare := phrases.without_filler(spoken)):
        return exact
    return [
        phone
        for phone, known in names.items()
        if any(phrases.without_filler(name) == bare for name in known)
    ]

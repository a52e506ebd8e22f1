"""The phones voice can reach, and finding the one a user names.

A phone is one Switchboard device of a loaded entry. Voice acts only on the
phones whose Call sensor is exposed to the assistant that asks. A user names
a phone by its device name, its area, or the name or an alias of its Call
sensor. The phones' Missed calls and Last call sensors tell who called them
lately (restored across restarts), so a user can call one of them back by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
import re
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_should_expose,
)
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..devices import device_identifier
from ..entity import entity_index
from ..hub import SwitchboardHub
from ..providers.model import CallAction, Device, Direction
from ..sensor import CALL_SENSOR, LastCallSensor, MissedCallsSensor
from .phrases import Phrases, normalize

# "Name (number)", as the sensors show a caller with both.
_NAME_AND_NUMBER = re.compile(r"(?P<name>.+) \((?P<number>[^()]+)\)")
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


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

    @property
    def can_dial(self) -> bool:
        """Tell whether the phone's provider places calls."""
        return CallAction.DIAL in self.hub.provider.supported_actions


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


def _sensor_of[S: MissedCallsSensor | LastCallSensor](
    hass: HomeAssistant, phone: Phone, kind: type[S]
) -> S | None:
    """Return the phone's sensor of `kind`, if Home Assistant has added it."""
    return entity_index(hass).of_device(
        (phone.hub.entry.entry_id, phone.device.device_id), kind
    )


@callback
def async_missed_calls(
    hass: HomeAssistant, phones: Sequence[Phone]
) -> list[MissedCalls]:
    """Return the missed-call count of each of `phones` that has its counter.

    Read from the counter itself, not its state: the count stands while the
    provider's event stream is down and the sensor shows unavailable.
    """
    found: list[MissedCalls] = []
    for phone in phones:
        counter = _sensor_of(hass, phone, MissedCallsSensor)
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


@dataclass(frozen=True, slots=True)
class RecentCaller:
    """Someone a phone was on a call with lately, with a number to call back."""

    phone: Phone
    name: str | None
    number: str
    at: datetime | None
    # Whether they called (rather than were called).
    incoming: bool


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _from_last_call(phone: Phone, attributes: dict[str, Any]) -> RecentCaller | None:
    number = _text(attributes.get("remote_number"))
    if number is None:
        return None
    return RecentCaller(
        phone=phone,
        name=_text(attributes.get("remote_name")),
        number=number,
        at=_moment(attributes.get("ended_at") or attributes.get("started_at")),
        incoming=attributes.get("direction") == Direction.INCOMING.value,
    )


def _from_missed(phone: Phone, attributes: dict[str, Any]) -> RecentCaller | None:
    caller = _text(attributes.get("last_caller"))
    if caller is None:
        return None
    name: str | None = None
    number = caller
    if match := _NAME_AND_NUMBER.fullmatch(caller):
        name, number = match["name"], match["number"]
    elif not any(char.isdigit() for char in caller):
        return None  # A name without a number: nothing to call.
    return RecentCaller(
        phone=phone,
        name=name,
        number=number,
        at=_moment(attributes.get("last_missed_at")),
        incoming=True,
    )


@callback
def async_recent_callers(
    hass: HomeAssistant, phones: Sequence[Phone]
) -> list[RecentCaller]:
    """Return who `phones` were on calls with lately, the newest first.

    Each phone's last call, and the last caller it missed: what its Last call
    and Missed calls sensors show, restored across restarts.
    """
    found: list[RecentCaller] = []
    for phone in phones:
        if (last := _sensor_of(hass, phone, LastCallSensor)) is not None and (
            caller := _from_last_call(phone, dict(last.extra_state_attributes or {}))
        ):
            found.append(caller)
        if (counter := _sensor_of(hass, phone, MissedCallsSensor)) is not None and (
            caller := _from_missed(phone, dict(counter.extra_state_attributes or {}))
        ):
            found.append(caller)
    return sorted(found, key=lambda caller: caller.at or _LONG_AGO, reverse=True)


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

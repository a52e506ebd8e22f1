"""The `answer` button: answers the device's ringing call."""

from __future__ import annotations

from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SwitchboardEntity
from .hub import SwitchboardConfigEntry
from .providers.model import CallAction

PARALLEL_UPDATES = 1

ANSWER_BUTTON = ButtonEntityDescription(key="answer", translation_key="answer")


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One answer button per device."""
    async_add_entities(
        AnswerButton(entry, device, ANSWER_BUTTON)
        for device in entry.runtime_data.devices.values()
    )


class AnswerButton(SwitchboardEntity, ButtonEntity):
    """Available only while the device has a ringing call it may answer."""

    @property
    @override
    def available(self) -> bool:
        return super().available and self.hub.can(self.device, CallAction.ANSWER)

    @override
    async def async_press(self) -> None:
        await self.hub.async_act(self.device, CallAction.ANSWER)

"""The call buttons: answer, decline and hang up the device's call.

A button never goes unavailable: Home Assistant skips an unavailable entity's
press without a word, so an automation pressing Answer while the provider is
unreachable would believe it answered. Pressed then, it raises the hub's
translated reason instead; pressed with nothing to act on, an error that
names the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SwitchboardEntity, async_add_device_entities
from .hub import SwitchboardConfigEntry
from .providers.model import CallAction

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class CallButtonDescription(ButtonEntityDescription):
    """A button that performs one action on the device's call."""

    action: CallAction


CALL_BUTTONS = (
    CallButtonDescription(
        key="answer", translation_key="answer", action=CallAction.ANSWER
    ),
    CallButtonDescription(
        key="decline", translation_key="decline", action=CallAction.REJECT
    ),
    CallButtonDescription(
        key="hang_up", translation_key="hang_up", action=CallAction.HANGUP
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of every device, for the actions its provider has at all."""
    supported = entry.runtime_data.provider.supported_actions
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda device: (
            CallButton(entry, device, description)
            for description in CALL_BUTTONS
            if description.action in supported
        ),
    )


class CallButton(SwitchboardEntity, ButtonEntity):
    """Performs its action on the call the action means (see the hub)."""

    entity_description: CallButtonDescription
    # A button shows nothing that changes: no call or availability news to follow.
    _follows_hub = False

    @property
    @override
    def available(self) -> bool:
        return True

    @override
    async def async_press(self) -> None:
        await self.hub.async_act(self.device, self.entity_description.action)

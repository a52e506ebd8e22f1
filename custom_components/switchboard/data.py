"""What a loaded Switchboard config entry holds."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .calls import CallBook
from .controller import CallController
from .providers.base import WebhookProvider
from .providers.model import Device


@dataclass(slots=True)
class SwitchboardData:
    """The provider client, its devices and their calls."""

    provider: WebhookProvider
    devices: dict[str, Device]
    calls: CallBook
    controller: CallController


type SwitchboardConfigEntry = ConfigEntry[SwitchboardData]

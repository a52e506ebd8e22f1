"""What a loaded Switchboard config entry holds."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .calls import CallBook
from .controller import CallController
from .providers.base import Provider
from .providers.model import Device
from .stream import StreamRunner


@dataclass(slots=True)
class SwitchboardData:
    """The provider client, its devices and their calls."""

    provider: Provider
    devices: dict[str, Device]
    calls: CallBook
    controller: CallController
    # Only for providers whose events arrive on a stream (Genesys).
    stream: StreamRunner | None = None


type SwitchboardConfigEntry = ConfigEntry[SwitchboardData]

"""A Home Assistant test instance with Switchboard set up against the simulator.

Built as the `hass` and `enable_custom_integrations` fixtures of
pytest-homeassistant-custom-component build it, from a plain script: a test
instance in a temporary config directory, custom integrations loadable, HTTP
bound to a free loopback port that is also the external URL, and each config
entry set up through `hass.config_entries.async_setup` against the Telnyx
simulator (its devices are the application's numbers the simulator lists).

The floor is the same integration `scripts/bench` measures against in a real
`hass` (tests/bench/floor_integration), loaded here as a custom integration
too and set up with entries of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
import logging
from pathlib import Path
import tempfile

from aiohttp.test_utils import unused_port
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_API_KEY,
    CONF_URL,
    CONF_WEBHOOK_ID,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame, translation
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

import custom_components
from custom_components.switchboard.const import (
    CONF_APPLICATION_ID,
    CONF_PROVIDER,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
    DOMAIN,
)
from custom_components.switchboard.hub import SwitchboardHub
from tests.bench.floor_integration import (
    AS_SWITCHBOARD,
    CONF_NUMBERS,
    CONF_PUBLIC_KEY as CONF_FLOOR_KEY,
    CONF_WRITES,
    DOMAIN as FLOOR_DOMAIN,
)
from tests.benchmarks.telnyx_traffic import TelnyxTraffic
from tests.simulators.telnyx import TelnyxSimulator

LOOPBACK = "127.0.0.1"
# Loggers whose warnings at set-up (untested custom integration, no zlib_ng)
# are noise here; errors still show.
_NOISY = ("homeassistant", "aiohttp", "aiohttp_fast_zlib")
FLOOR_SOURCE = Path(__file__).parent.parent / "bench" / "floor_integration"


@dataclass(frozen=True, slots=True)
class BenchEntry:
    """One set-up Switchboard entry: its webhook, hub and call traffic."""

    title: str
    webhook_id: str
    hub: SwitchboardHub
    traffic: TelnyxTraffic

    @property
    def device_count(self) -> int:
        """How many devices the entry made (one per number)."""
        return len(self.hub.devices)


@asynccontextmanager
async def async_bench_hass() -> AsyncIterator[HomeAssistant]:
    """Yield a running test instance; unload every entry and stop it after."""
    levels = {name: logging.getLogger(name).level for name in _NOISY}
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="switchboard-bench-") as config_dir,
            _floor_loadable(Path(config_dir, "floor")),
        ):
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                await _async_prepare(hass)
                try:
                    yield hass
                finally:
                    await _async_unload_entries(hass)
                    await hass.async_stop(force=True)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def _floor_loadable(root: Path) -> Iterator[None]:
    """Make the floor a custom integration: custom_components' path finds them."""
    root.mkdir()
    (root / FLOOR_DOMAIN).symlink_to(FLOOR_SOURCE.resolve())
    custom_components.__path__.append(str(root))
    try:
        yield
    finally:
        custom_components.__path__.remove(str(root))


async def _async_prepare(hass: HomeAssistant) -> None:
    """Do what the fixtures do, and serve HTTP on loopback only."""
    # The enable_custom_integrations fixture: custom_components/ is loadable.
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
    frame.async_setup(hass)
    await translation.async_load_integrations(hass, {"homeassistant"})
    # Switchboard depends on http: bind it to a free loopback port first, so
    # that the default (every interface, port 8123) is never tried.
    port = unused_port()
    config = {"http": {"server_host": [LOOPBACK], "server_port": port}}
    if not await async_setup_component(hass, "http", config):
        raise RuntimeError("http did not set up")
    await hass.config.async_update(external_url=f"http://{LOOPBACK}:{port}")


async def _async_unload_entries(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries():
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)


async def async_settle(hass: HomeAssistant) -> None:
    """Write what Home Assistant would write soon, now, not in a measured round.

    The registries save 10 s after their last change, and build then (and
    keep) a JSON fragment per entity. Every store with a pending delayed save
    writes it on the final-write event, which only storage listens to here.
    """
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done(wait_background_tasks=True)


def numbers_for(entry_index: int, count: int) -> list[str]:
    """Phone numbers of one entry's application, distinct across entries."""
    return [f"+1555{entry_index:02d}{number:05d}" for number in range(count)]


async def async_add_entry(
    hass: HomeAssistant,
    simulator: TelnyxSimulator,
    title: str,
    numbers: list[str],
    seed: int,
) -> BenchEntry:
    """Give the simulator an application with `numbers`; set an entry up on it."""
    application_id = simulator.add_application(title)
    for number in numbers:
        simulator.add_phone_number(application_id, number)
    webhook_id = f"{seed:064x}"
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=application_id,
        data={
            CONF_PROVIDER: "telnyx",
            CONF_API_KEY: simulator.api_key,
            CONF_PUBLIC_KEY: simulator.public_key_b64,
            CONF_URL: simulator.base_url,
            CONF_APPLICATION_ID: application_id,
            CONF_REGISTER_WEBHOOK: True,
            CONF_WEBHOOK_ID: webhook_id,
        },
    )
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise RuntimeError(f"the entry {title!r} did not set up: {entry.state}")
    await hass.async_block_till_done()
    hub: SwitchboardHub = entry.runtime_data
    if len(hub.devices) != len(numbers):
        raise RuntimeError(f"{title!r}: {len(hub.devices)} devices, not {len(numbers)}")
    traffic = TelnyxTraffic(simulator, application_id, numbers, seed)
    return BenchEntry(title, webhook_id, hub, traffic)


async def async_add_floor(
    hass: HomeAssistant,
    simulator: TelnyxSimulator,
    numbers: list[str],
    seed: int,
    *,
    as_switchboard: bool = False,
) -> str:
    """Set a floor entry up on `numbers`; return its webhook id.

    With `as_switchboard`, it writes as many entity states per delivery as
    Switchboard's entities of a number show.
    """
    webhook_id = f"f{seed:063x}"
    entry = MockConfigEntry(
        domain=FLOOR_DOMAIN,
        title=f"Floor {seed}",
        unique_id=webhook_id,
        data={
            CONF_API_KEY: simulator.api_key,
            CONF_URL: simulator.base_url,
            CONF_FLOOR_KEY: simulator.public_key_b64,
            CONF_NUMBERS: ",".join(numbers),
            CONF_WEBHOOK_ID: webhook_id,
            CONF_WRITES: AS_SWITCHBOARD if as_switchboard else "1",
        },
    )
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise RuntimeError(f"the floor on {len(numbers)} numbers did not set up")
    await hass.async_block_till_done()
    if len(entry.runtime_data.sensors) != len(numbers):
        raise RuntimeError("the floor made a sensor per number")
    return webhook_id

"""The registry of providers is the one list: menu, steps, translations, manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard import async_remove_config_entry_device
from custom_components.switchboard.config_flow import (
    PROVIDER_STEPS,
    SwitchboardConfigFlow,
)
from custom_components.switchboard.const import CONF_PROVIDER, DOMAIN
from custom_components.switchboard.kinds import (
    KINDS,
    OAuthProviderKind,
    UnknownProviderError,
    kind_of,
)

from .helpers import start_flow

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "switchboard"


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


async def test_the_menu_offers_every_kind(hass: HomeAssistant) -> None:
    for key in KINDS:
        result = await start_flow(hass, key)
        assert result["step_id"] == key


def test_every_kind_has_its_steps_and_translations() -> None:
    strings = load_json(INTEGRATION / "translations" / "en.json")["config"]
    menu = strings["step"]["user"]["menu_options"]
    assert list(menu) == list(KINDS)
    for key, kind in KINDS.items():
        steps = {key, f"reauth_{key}", f"reconfigure_{key}", *kind.extra_steps}
        assert {s for s, (k, _) in PROVIDER_STEPS.items() if k is kind} == steps
        assert steps <= set(strings["step"])
        assert strings["step"][key]["title"]
        assert kind.name
        assert kind.redact_keys >= kind.entry_secrets


def test_only_registered_steps_resolve() -> None:
    flow = SwitchboardConfigFlow()
    assert callable(flow.async_step_telnyx)
    for name in ("async_step_pbx", "telnyx", "not_a_step"):
        assert not hasattr(flow, name)


def test_the_manifest_has_what_the_kinds_need() -> None:
    manifest = load_json(INTEGRATION / "manifest.json")
    if any(kind.uses_webhook for kind in KINDS.values()):
        assert "webhook" in manifest["dependencies"]
    if any(isinstance(kind, OAuthProviderKind) for kind in KINDS.values()):
        assert "application_credentials" in manifest["dependencies"]
    assert manifest["requirements"] == []


def test_an_unknown_provider_is_an_error_never_another_client() -> None:
    with pytest.raises(UnknownProviderError):
        kind_of({CONF_PROVIDER: "pbx"})
    # The first entries knew only Telnyx and did not say so.
    assert kind_of({}).key == "telnyx"


async def test_an_entry_of_an_unknown_provider_fails_to_set_up(
    hass: HomeAssistant,
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_PROVIDER: "pbx"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "pbx" in entry.reason


async def test_only_a_device_the_provider_dropped_can_be_deleted(
    hass: HomeAssistant,
    setup_telnyx: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    current = dr.async_entries_for_config_entry(device_registry, setup_telnyx.entry_id)
    assert current
    for device in current:
        assert not await async_remove_config_entry_device(hass, setup_telnyx, device)
    gone = device_registry.async_get_or_create(
        config_entry_id=setup_telnyx.entry_id,
        identifiers={(DOMAIN, f"{setup_telnyx.unique_id}_no-longer-listed")},
    )
    assert await async_remove_config_entry_device(hass, setup_telnyx, gone)

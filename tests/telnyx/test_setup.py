"""Setting up, unloading and removing an entry."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import (
    CONF_CLOUDHOOK_URL,
    CONF_PREVIOUS_URL,
    CONF_REGISTER_WEBHOOK,
    CONF_REGISTERED_URL,
    DOMAIN,
)
from tests.const import WEBHOOK_ID
from tests.fixtures.cloud import CLOUDHOOK, CloudNotAvailableError, FakeCloud
from tests.helpers import SENSOR, HAClient, post_webhook
from tests.simulators.telnyx import TelnyxSimulator

OLD_URL = "https://old.example.invalid/telnyx"


def webhook_url(telnyx: TelnyxSimulator, application_id: str) -> str | None:
    url: str | None = telnyx.applications[application_id]["webhook_event_url"]
    return url


async def test_setup_points_telnyx_here_and_unload_stops_listening(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    setup_telnyx: MockConfigEntry,
    ha_url: str,
) -> None:
    assert setup_telnyx.state is ConfigEntryState.LOADED
    expected = f"{ha_url}/api/webhook/{WEBHOOK_ID}"
    assert webhook_url(telnyx, application_id) == expected
    assert setup_telnyx.data[CONF_REGISTERED_URL] == expected
    assert setup_telnyx.data[CONF_PREVIOUS_URL] is None
    assert WEBHOOK_ID in hass.data["webhook"]

    assert await hass.config_entries.async_unload(setup_telnyx.entry_id)
    await hass.async_block_till_done()
    assert setup_telnyx.state is ConfigEntryState.NOT_LOADED
    assert WEBHOOK_ID not in hass.data["webhook"]
    assert (state := hass.states.get(SENSOR)) is not None
    assert state.state == "unavailable"
    # Unloading is not removing: Telnyx keeps pointing here.
    assert webhook_url(telnyx, application_id) == expected


async def test_second_setup_does_not_patch_again(
    hass: HomeAssistant, telnyx: TelnyxSimulator, setup_telnyx: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_reload(setup_telnyx.entry_id)
    await hass.async_block_till_done()
    patches = [r for r in telnyx.requests if r.method == "PATCH"]
    assert len(patches) == 1


@pytest.mark.usefixtures("ha_url")
async def test_remove_restores_the_previous_webhook_url(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
) -> None:
    telnyx.applications[application_id]["webhook_event_url"] = OLD_URL
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert telnyx_entry.data[CONF_PREVIOUS_URL] == OLD_URL
    assert await hass.config_entries.async_remove(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert webhook_url(telnyx, application_id) == OLD_URL


async def test_remove_leaves_a_url_someone_else_set(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    setup_telnyx: MockConfigEntry,
) -> None:
    telnyx.applications[application_id]["webhook_event_url"] = OLD_URL
    assert await hass.config_entries.async_remove(setup_telnyx.entry_id)
    await hass.async_block_till_done()
    assert webhook_url(telnyx, application_id) == OLD_URL
    assert [r.method for r in telnyx.requests].count("PATCH") == 1


async def test_remove_when_telnyx_is_down_still_removes(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    setup_telnyx: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    telnyx.fail_next(503, times=5)
    assert await hass.config_entries.async_remove(setup_telnyx.entry_id)
    await hass.async_block_till_done()
    assert hass.config_entries.async_get_entry(setup_telnyx.entry_id) is None
    assert "Could not clear the webhook registration" in caplog.text


@pytest.mark.usefixtures("ha_url")
async def test_manual_webhook_leaves_telnyx_alone(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
) -> None:
    hass.config_entries.async_update_entry(
        telnyx_entry, data={**telnyx_entry.data, CONF_REGISTER_WEBHOOK: False}
    )
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert telnyx_entry.state is ConfigEntryState.LOADED
    assert webhook_url(telnyx, application_id) is None
    assert await hass.config_entries.async_remove(telnyx_entry.entry_id)
    assert [r.method for r in telnyx.requests].count("PATCH") == 0


async def test_no_public_url_raises_a_repair_issue(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
    ha_client: HAClient,
    issue_registry: ir.IssueRegistry,
) -> None:
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert telnyx_entry.state is ConfigEntryState.LOADED
    assert webhook_url(telnyx, application_id) is None
    issue_id = f"no_webhook_url_{telnyx_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"title": "Front desk"}
    # Deliveries that do arrive (a URL set by hand) are still handled.
    response = await post_webhook(ha_client, telnyx, b"{}")
    assert response.status == 400

    url = str(ha_client.make_url("")).rstrip("/")
    await hass.config.async_update(external_url=url)
    assert await hass.config_entries.async_reload(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert webhook_url(telnyx, application_id) == f"{url}/api/webhook/{WEBHOOK_ID}"


@pytest.mark.usefixtures("ha_client")
async def test_issue_goes_with_the_entry(
    hass: HomeAssistant,
    telnyx_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert len(issue_registry.issues) == 1
    assert await hass.config_entries.async_remove(telnyx_entry.entry_id)
    assert len(issue_registry.issues) == 0


async def test_cloudhook_with_nabu_casa(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
    nabu_casa: FakeCloud,
) -> None:
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    nabu_casa.async_get_or_create_cloudhook.assert_awaited_once_with(hass, WEBHOOK_ID)
    assert telnyx_entry.data[CONF_CLOUDHOOK_URL] == CLOUDHOOK
    assert webhook_url(telnyx, application_id) == CLOUDHOOK
    assert hass.data["webhook"][WEBHOOK_ID].local_only is False

    assert await hass.config_entries.async_reload(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    nabu_casa.async_get_or_create_cloudhook.assert_awaited_once()

    assert await hass.config_entries.async_remove(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    nabu_casa.async_delete_cloudhook.assert_awaited_once_with(hass, WEBHOOK_ID)
    assert webhook_url(telnyx, application_id) is None


async def test_cloudhook_already_gone_on_remove(
    hass: HomeAssistant,
    telnyx_entry: MockConfigEntry,
    nabu_casa: FakeCloud,
) -> None:
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    nabu_casa.async_delete_cloudhook.side_effect = ValueError
    assert await hass.config_entries.async_remove(telnyx_entry.entry_id)
    nabu_casa.async_delete_cloudhook.assert_awaited_once()


@pytest.mark.parametrize("cloud_state", ["not connected", "not subscribed"])
async def test_cloud_unavailable_falls_back_to_external_url(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
    nabu_casa: FakeCloud,
    ha_url: str,
    cloud_state: str,
) -> None:
    if cloud_state == "not connected":
        nabu_casa.async_get_or_create_cloudhook.side_effect = CloudNotAvailableError
    else:
        nabu_casa.async_active_subscription.return_value = False
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert webhook_url(telnyx, application_id) == f"{ha_url}/api/webhook/{WEBHOOK_ID}"
    assert CONF_CLOUDHOOK_URL not in telnyx_entry.data


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_provider_down_retries_setup(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    telnyx_entry: MockConfigEntry,
    status: int,
) -> None:
    telnyx.fail_next(status)
    assert not await hass.config_entries.async_setup(telnyx_entry.entry_id)
    assert telnyx_entry.state is ConfigEntryState.SETUP_RETRY


async def test_unreachable_provider_retries_setup(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    telnyx_entry: MockConfigEntry,
) -> None:
    await telnyx.close()
    assert not await hass.config_entries.async_setup(telnyx_entry.entry_id)
    assert telnyx_entry.state is ConfigEntryState.SETUP_RETRY


async def test_rejected_key_asks_to_sign_in_again(
    hass: HomeAssistant, telnyx_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        telnyx_entry, data={**telnyx_entry.data, CONF_API_KEY: "KEYrevoked"}
    )
    assert not await hass.config_entries.async_setup(telnyx_entry.entry_id)
    assert telnyx_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_deleted_application_is_a_setup_error(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
) -> None:
    del telnyx.applications[application_id]
    assert not await hass.config_entries.async_setup(telnyx_entry.entry_id)
    assert telnyx_entry.state is ConfigEntryState.SETUP_ERROR
    assert telnyx_entry.reason is not None
    assert "Resource not found" in telnyx_entry.reason


async def test_numbers_gone_from_telnyx_lose_their_device(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    setup_telnyx: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    devices = dr.async_entries_for_config_entry(device_registry, setup_telnyx.entry_id)
    assert len(devices) == 2
    kitchen = next(
        number_id
        for number_id, number in telnyx.phone_numbers.items()
        if number["phone_number"] == "+15550100002"
    )
    del telnyx.phone_numbers[kitchen]
    assert await hass.config_entries.async_reload(setup_telnyx.entry_id)
    await hass.async_block_till_done()
    devices = dr.async_entries_for_config_entry(device_registry, setup_telnyx.entry_id)
    assert [device.name for device in devices] == ["+15550100001"]

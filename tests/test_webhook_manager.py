"""The webhook manager follows Home Assistant's address on the internet.

Where it registered the URL itself (Telnyx, Webex) it registers the new one;
where the user pasted it (Teams, Telnyx without registration) it raises a
repair issue with the address to paste.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import CONF_REGISTER_WEBHOOK, DOMAIN
from tests.fixtures.cloud import CLOUDHOOK, CloudNotAvailableError, FakeCloud
from tests.fixtures.graph import GRAPH_TITLE
from tests.simulators.graph import GraphSimulator
from tests.simulators.telnyx import TelnyxSimulator

from .const import WEBHOOK_ID
from .helpers import SENSOR, ring, state_of


def registered(telnyx: TelnyxSimulator, application_id: str) -> str | None:
    url: str | None = telnyx.applications[application_id]["webhook_event_url"]
    return url


async def test_a_new_external_url_is_registered_at_once(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    setup_telnyx: MockConfigEntry,
    ha_url: str,
) -> None:
    assert registered(telnyx, application_id) == f"{ha_url}/api/webhook/{WEBHOOK_ID}"
    # Telnyx must follow, with no reload; the address it had is remembered
    # as the user's own only once, when we first registered.
    moved = "https://moved.example.invalid"
    await hass.config.async_update(external_url=moved)
    await hass.async_block_till_done()
    assert registered(telnyx, application_id) == f"{moved}/api/webhook/{WEBHOOK_ID}"
    assert setup_telnyx.data["registered_webhook_url"] == registered(
        telnyx, application_id
    )
    assert setup_telnyx.data["previous_webhook_url"] is None
    # And back: deliveries reach Home Assistant again.
    await hass.config.async_update(external_url=ha_url)
    await hass.async_block_till_done()
    await ring(hass, telnyx)
    assert state_of(hass, SENSOR).state == "ringing"


async def test_an_unchanged_url_changes_nothing(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    setup_telnyx: MockConfigEntry,
    ha_url: str,
) -> None:
    del setup_telnyx
    patches = [r.method for r in telnyx.requests].count("PATCH")
    await hass.config.async_update(external_url=ha_url, location_name="Elsewhere")
    await hass.async_block_till_done()
    assert [r.method for r in telnyx.requests].count("PATCH") == patches


async def test_losing_the_external_url_raises_a_repair_issue(
    hass: HomeAssistant,
    setup_telnyx: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await hass.config.async_update(external_url=None)
    await hass.async_block_till_done()
    issue_id = f"no_webhook_url_{setup_telnyx.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None


@pytest.mark.usefixtures("ha_url")
async def test_a_pasted_url_that_moved_raises_a_repair_issue(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    hass.config_entries.async_update_entry(
        telnyx_entry, data={**telnyx_entry.data, CONF_REGISTER_WEBHOOK: False}
    )
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    moved = "https://new.example.invalid"
    await hass.config.async_update(external_url=moved)
    await hass.async_block_till_done()
    issue_id = f"webhook_url_changed_{telnyx_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": "Front desk",
        "webhook_url": f"{moved}/api/webhook/{WEBHOOK_ID}",
    }
    # Telnyx is the user's to change: nothing was sent to it.
    assert [r.method for r in telnyx.requests].count("PATCH") == 0
    assert registered(telnyx, application_id) is None
    # A reload means the user dealt with it.
    assert await hass.config_entries.async_reload(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_teams_callback_that_moved_raises_a_repair_issue(
    hass: HomeAssistant,
    graph: GraphSimulator,
    setup_graph: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    del graph
    moved = "https://moved.switchboard.invalid"
    await hass.config.async_update(external_url=moved)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(
        DOMAIN, f"webhook_url_changed_{setup_graph.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": GRAPH_TITLE,
        "webhook_url": f"{moved}/api/webhook/{setup_graph.data['webhook_id']}",
    }
    # An http address will not do for Microsoft at all.
    await hass.config.async_update(external_url="http://plain.switchboard.invalid")
    await hass.async_block_till_done()
    no_https = f"no_https_url_{setup_graph.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, no_https) is not None
    assert (
        issue_registry.async_get_issue(
            DOMAIN, f"webhook_url_changed_{setup_graph.entry_id}"
        )
        is None
    )


async def test_cloud_that_connects_later_takes_over(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    telnyx_entry: MockConfigEntry,
    ha_url: str,
    nabu_casa: FakeCloud,
) -> None:
    nabu_casa.async_get_or_create_cloudhook.side_effect = CloudNotAvailableError
    assert await hass.config_entries.async_setup(telnyx_entry.entry_id)
    await hass.async_block_till_done()
    assert registered(telnyx, application_id) == f"{ha_url}/api/webhook/{WEBHOOK_ID}"

    nabu_casa.async_get_or_create_cloudhook.side_effect = None
    await nabu_casa.async_change_connection("cloud_connected")
    await hass.async_block_till_done()
    assert registered(telnyx, application_id) == CLOUDHOOK
    assert telnyx_entry.data["cloudhook_url"] == CLOUDHOOK

    # The subscription lapses: back to the external URL.
    nabu_casa.async_active_subscription.return_value = False
    await nabu_casa.async_change_connection("cloud_disconnected")
    await hass.async_block_till_done()
    assert registered(telnyx, application_id) == f"{ha_url}/api/webhook/{WEBHOOK_ID}"


async def test_a_moved_registration_that_cannot_be_changed_is_logged(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    setup_telnyx: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    del setup_telnyx
    before = registered(telnyx, application_id)
    telnyx.fail_next(401, times=5)
    await hass.config.async_update(external_url="https://moved.example.invalid")
    await hass.async_block_till_done()
    assert registered(telnyx, application_id) == before
    assert "Could not point Front desk at the new webhook address" in caplog.text
    assert "/api/webhook/" not in caplog.text

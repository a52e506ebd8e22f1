"""The config flow against the simulator: every step, error and recovery."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigFlowContext,
    ConfigFlowResult,
)
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import (
    CONF_APPLICATION_ID,
    CONF_PROVIDER,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
    DOMAIN,
)
from tests.simulators.telnyx import TelnyxSimulator


def credentials(telnyx: TelnyxSimulator, **changes: Any) -> dict[str, Any]:
    return {
        CONF_API_KEY: telnyx.api_key,
        CONF_PUBLIC_KEY: telnyx.public_key_b64,
        CONF_URL: telnyx.base_url,
        **changes,
    }


async def start(hass: HomeAssistant) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context=ConfigFlowContext(source=SOURCE_USER),
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["telnyx", "webex", "graph", "genesys"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "telnyx"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "telnyx"
    return result


async def test_full_flow(
    hass: HomeAssistant, telnyx: TelnyxSimulator, application_id: str
) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "application"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_APPLICATION_ID: application_id, CONF_REGISTER_WEBHOOK: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front desk"
    assert result["description"] is None
    data = dict(result["data"])
    assert len(data.pop(CONF_WEBHOOK_ID)) == 64
    assert data == {
        **credentials(telnyx),
        CONF_PROVIDER: "telnyx",
        CONF_APPLICATION_ID: application_id,
        CONF_REGISTER_WEBHOOK: True,
    }
    assert result["result"].unique_id == application_id


async def test_api_url_is_optional(hass: HomeAssistant) -> None:
    result = await start(hass)
    assert result["data_schema"] is not None
    fields = {str(key): key for key in result["data_schema"].schema}
    assert list(fields) == [CONF_API_KEY, CONF_PUBLIC_KEY, CONF_URL]
    assert fields[CONF_URL].default is vol.UNDEFINED
    assert isinstance(fields[CONF_URL], vol.Optional)


@pytest.mark.parametrize(
    ("external_url", "shown"),
    [
        ("https://ha.example.invalid", "https://ha.example.invalid"),
        (None, "<your Home Assistant URL>"),
    ],
)
async def test_manual_webhook_shows_the_url(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    external_url: str | None,
    shown: str,
) -> None:
    await hass.config.async_update(external_url=external_url, internal_url=None)
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx)
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_APPLICATION_ID: application_id, CONF_REGISTER_WEBHOOK: False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description"] == "manual_webhook"
    webhook_id = result["data"][CONF_WEBHOOK_ID]
    assert result["description_placeholders"] == {
        "webhook_url": f"{shown}/api/webhook/{webhook_id}"
    }


async def test_application_already_configured(
    hass: HomeAssistant, telnyx_entry: MockConfigEntry, telnyx: TelnyxSimulator
) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx)
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_APPLICATION_ID: telnyx_entry.unique_id, CONF_REGISTER_WEBHOOK: True},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("fault", "changes", "errors"),
    [
        (None, {CONF_API_KEY: "KEYwrong"}, {"base": "invalid_auth"}),
        (
            None,
            {CONF_PUBLIC_KEY: "bm90IGEga2V5"},
            {CONF_PUBLIC_KEY: "invalid_public_key"},
        ),
        ((503, None), {}, {"base": "cannot_connect"}),
        ((429, None), {}, {"base": "cannot_connect"}),
        ((422, "10015"), {}, {"base": "unknown"}),
        (None, {CONF_URL: "http://127.0.0.1:9/v2"}, {"base": "cannot_connect"}),
    ],
)
async def test_errors_then_recovery(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    application_id: str,
    fault: tuple[int, str | None] | None,
    changes: dict[str, str],
    errors: dict[str, str],
) -> None:
    result = await start(hass)
    if fault:
        telnyx.fail_next(fault[0], code=fault[1])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "telnyx"
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx)
    )
    assert result["step_id"] == "application"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_APPLICATION_ID: application_id, CONF_REGISTER_WEBHOOK: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_no_applications_then_one_created(
    hass: HomeAssistant, telnyx: TelnyxSimulator
) -> None:
    telnyx.applications.clear()
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx)
    )
    assert result["errors"] == {"base": "no_applications"}
    new_app = telnyx.add_application("Created meanwhile")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx)
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_APPLICATION_ID: new_app, CONF_REGISTER_WEBHOOK: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Created meanwhile"


async def test_reauth(
    hass: HomeAssistant, telnyx: TelnyxSimulator, telnyx_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        telnyx_entry, data={**telnyx_entry.data, CONF_API_KEY: "KEYold"}
    )
    result = await telnyx_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_telnyx"
    assert result["description_placeholders"]["title"] == "Front desk"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: "KEYstillwrong", CONF_PUBLIC_KEY: telnyx.public_key_b64},
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: telnyx.api_key, CONF_PUBLIC_KEY: telnyx.public_key_b64},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert telnyx_entry.data[CONF_API_KEY] == telnyx.api_key


async def test_reauth_for_an_application_the_key_cannot_see(
    hass: HomeAssistant,
    telnyx: TelnyxSimulator,
    telnyx_entry: MockConfigEntry,
    application_id: str,
) -> None:
    application = telnyx.applications.pop(application_id)
    result = await telnyx_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: telnyx.api_key, CONF_PUBLIC_KEY: telnyx.public_key_b64},
    )
    assert result["errors"] == {"base": "application_not_found"}
    telnyx.applications[application_id] = application
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: telnyx.api_key, CONF_PUBLIC_KEY: telnyx.public_key_b64},
    )
    assert result["reason"] == "reauth_successful"


async def test_reconfigure(
    hass: HomeAssistant, telnyx: TelnyxSimulator, telnyx_entry: MockConfigEntry
) -> None:
    result = await telnyx_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_telnyx"
    assert CONF_URL in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        credentials(telnyx, **{CONF_PUBLIC_KEY: "short", CONF_REGISTER_WEBHOOK: False}),
    )
    assert result["errors"] == {CONF_PUBLIC_KEY: "invalid_public_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(telnyx, **{CONF_REGISTER_WEBHOOK: False})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert telnyx_entry.data[CONF_REGISTER_WEBHOOK] is False


async def test_default_api_url_is_not_stored(
    hass: HomeAssistant, telnyx: TelnyxSimulator, telnyx_entry: MockConfigEntry
) -> None:
    result = await telnyx_entry.start_reconfigure_flow(hass)
    # The simulator stands in for api.telnyx.com, before and after the reload.
    with patch(
        "custom_components.switchboard.providers.telnyx.DEFAULT_URL", telnyx.base_url
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_API_KEY: telnyx.api_key,
                CONF_PUBLIC_KEY: telnyx.public_key_b64,
                CONF_REGISTER_WEBHOOK: False,
            },
        )
        await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert CONF_URL not in telnyx_entry.data

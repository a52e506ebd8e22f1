"""Debug logging: one line per event, command and re-read; never a secret."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest

from .harness import Harness


async def test_one_call_in_the_debug_log(
    hass: HomeAssistant, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.switchboard")
    call_id = await harness.ring()
    await harness.act("answer_call")
    await harness.settle()
    await harness.act("hangup_call")
    await harness.settle()
    await harness.entry.runtime_data.async_reread()

    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.switchboard")
    ]
    provider = harness.entry.runtime_data.provider_name
    about_the_call = [line for line in lines if call_id in line]
    assert any(line.endswith("now ringing (incoming)") for line in about_the_call)
    assert (
        f"{provider}: answer call {call_id} on {harness.device_name} (try 1)" in lines
    )
    assert f"{provider}: answer call {call_id} accepted" in lines
    assert f"{provider}: hangup call {call_id} accepted" in lines
    assert any(line.endswith("now ended (ended)") for line in about_the_call)
    assert any(
        line.startswith((f"{provider}: re-read", f"{provider}: looked up"))
        for line in lines
    )
    # Home Assistant's own webhook component logs the webhook id at debug
    # level; Switchboard's lines never do, nor any credential.
    ours = "\n".join(lines)
    for secret in harness.secrets():
        assert secret not in ours

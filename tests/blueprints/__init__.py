"""Switchboard's blueprints, instantiated in Home Assistant for a test.

`install_blueprints` puts the repository's blueprint files where Home
Assistant looks for them, `use_blueprint` sets up one automation from one of
them, and `answers_sent` reads off the simulator whether an answer reached the
provider. `until` and `ActivityWaits` follow an automation that waits on (for
the keys a caller presses), which Home Assistant's own "wait until idle"
would wait out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
import shutil
from typing import Any, Final

from homeassistant.components.automation.const import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.const import STATE_ON
from homeassistant.core import EventBus, HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.switchboard.const import EVENT_CALL_ACTIVITY
from tests.contract.harness import Harness
from tests.contract.providers.genesys import OPERATIONS, GenesysHarness
from tests.contract.providers.graph import ANSWER as GRAPH_ANSWER, GraphHarness
from tests.contract.providers.telnyx import COMMANDS, TelnyxHarness
from tests.contract.providers.webex import ANSWER as WEBEX_ANSWER, WebexHarness
from tests.helpers import state_of
from tests.simulators.base import SimRequest

BLUEPRINTS: Final = (
    Path(__file__).parents[2] / "blueprints" / "automation" / "switchboard"
)
# Where Home Assistant keeps the blueprints, under automation/.
FOLDER: Final = "switchboard"
REPOSITORY: Final = "https://github.com/switchboard-ha/switchboard"
AUTOMATION: Final = "automation.switchboard_blueprint"


def source_url(file_name: str) -> str:
    """The address a blueprint is imported from: its file on GitHub."""
    return f"{REPOSITORY}/blob/main/blueprints/automation/{FOLDER}/{file_name}"


def blueprint_files() -> list[Path]:
    """Every blueprint the repository ships."""
    return sorted(BLUEPRINTS.glob("*.yaml"))


async def install_blueprints(hass: HomeAssistant) -> None:
    """Copy the blueprints into Home Assistant's configuration folder."""
    target = Path(hass.config.path("blueprints", AUTOMATION_DOMAIN, FOLDER))
    await hass.async_add_executor_job(
        lambda: shutil.copytree(BLUEPRINTS, target, dirs_exist_ok=True)
    )


async def use_blueprint(hass: HomeAssistant, file_name: str, **inputs: Any) -> str:
    """Set up one automation from a blueprint; return its entity id, on."""
    await install_blueprints(hass)
    assert await async_setup_component(
        hass,
        AUTOMATION_DOMAIN,
        {
            AUTOMATION_DOMAIN: {
                "id": "switchboard_blueprint",
                "alias": "Switchboard blueprint",
                "use_blueprint": {"path": f"{FOLDER}/{file_name}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    assert state_of(hass, AUTOMATION).state == STATE_ON
    return AUTOMATION


def answers_sent(harness: Harness, call_id: str) -> list[SimRequest]:
    """The answer commands for `call_id` that reached the provider's simulator."""
    match harness:
        case TelnyxHarness():
            path = f"/calls/{call_id}{COMMANDS}answer"
            return _matching(
                harness.simulator.requests, lambda r: r.path.endswith(path)
            )
        case WebexHarness():
            return _matching(
                harness.simulator.requests,
                lambda r: (
                    r.path.endswith(WEBEX_ANSWER) and _body(r).get("callId") == call_id
                ),
            )
        case GraphHarness():
            path = f"/calls/{call_id}{GRAPH_ANSWER}"
            return _matching(
                harness.simulator.requests, lambda r: r.path.endswith(path)
            )
        case GenesysHarness():
            path = f"{OPERATIONS}{call_id}"
            return _matching(
                harness.simulator.requests,
                lambda r: (
                    r.path.endswith(path) and _body(r).get("operationName") == "Answer"
                ),
            )
    raise AssertionError(f"no answer check for {harness.provider}")


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait until `condition` holds, at most `seconds`.

    For what nothing announces (a request the simulator received, an
    automation's run count) while an automation waits on: looked at again
    every few milliseconds.
    """
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - nothing to await instead
            await asyncio.sleep(0.01)


class ActivityWaits:
    """How often something started listening for Switchboard's call activity.

    An automation that waits for the keys of a call listens anew for each
    wait, so a test knows when the automation is waiting again.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Count from now on."""
        self.count = 0
        listen = EventBus.async_listen

        def _counted(bus: EventBus, event_type: Any, *args: Any, **kwargs: Any) -> Any:
            if event_type == EVENT_CALL_ACTIVITY:
                self.count += 1
            return listen(bus, event_type, *args, **kwargs)

        monkeypatch.setattr(EventBus, "async_listen", _counted)


def _matching(
    requests: Sequence[SimRequest], wanted: Callable[[SimRequest], bool]
) -> list[SimRequest]:
    return [request for request in requests if wanted(request)]


def _body(request: SimRequest) -> dict[str, Any]:
    return request.body if isinstance(request.body, dict) else {}

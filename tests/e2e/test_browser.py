"""A user in a real browser: onboarding, adding Switchboard, answering a call.

Debian's chromium (scripts/setup installs it where apt works), driven by
Playwright without any browser download, against a real `hass` that serves
its frontend and the Telnyx simulator on loopback. Each step's screenshot goes
to .develop/screenshots/browser/ (git-ignored).

The README's two images (docs/images/call-card-ringing.png and
call-card-talking.png) are copies of the screenshots named so here, made by
hand once; copy them again after a change to what they show.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Final

from playwright.sync_api import expect
import pytest

from tests.const import CALLER, FRONT_DESK, KITCHEN
from tests.develop.dashboard import readme_call_card

from .browser import (
    SCREENSHOTS,
    ChromiumThread,
    FrontendWalk,
    Screenshots,
    TelnyxCredentials,
    find_chromium,
    wait_hidden,
    wait_visible,
)
from .hass_process import HassProcess, running_hass
from .simulator_thread import SimulatorThread

OWNER: Final = {"name": "Owner", "username": "owner", "password": "e2e-owner-password"}
CALLER_NAME: Final = "Ada Lovelace"
CALLER_SHOWN: Final = f"{CALLER_NAME} ({CALLER})"
# What the frontend needs on top of the e2e configuration (its own
# dependencies come with it); default_config would pull in far more.
FRONTEND_CONFIGURATION: Final = "frontend:\n"
CALLS_DASHBOARD: Final = "dashboard-calls"


@pytest.fixture(scope="module")
def browser() -> Generator[ChromiumThread]:
    """Debian's chromium, headless; the test cannot run without one."""
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "chromium is not installed: the browser test needs Debian's chromium"
            " package (/usr/bin/chromium or chromium on PATH); scripts/setup"
            " installs it where apt works"
        )
    browser = ChromiumThread(executable)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def frontend_home_assistant(
    loopback_sockets: None, tmp_path_factory: pytest.TempPathFactory
) -> Generator[HassProcess]:
    """A running, not yet onboarded `hass` that serves its frontend."""
    with running_hass(
        tmp_path_factory.mktemp("hass-browser") / "config", FRONTEND_CONFIGURATION
    ) as hass:
        yield hass


@pytest.fixture(scope="module")
def walk(
    browser: ChromiumThread,
    frontend_home_assistant: HassProcess,
    telnyx_simulator: SimulatorThread,
) -> Generator[FrontendWalk]:
    """The owner, onboarded in the browser, who added Switchboard there."""
    credentials = telnyx_simulator.read_sync(
        lambda simulator: TelnyxCredentials(
            api_key=simulator.api_key,
            public_key=simulator.public_key_b64,
            url=simulator.base_url,
            application=next(iter(simulator.applications.values()))["application_name"],
        )
    )
    screenshots = Screenshots(SCREENSHOTS / "browser")
    page = browser.new_page()
    walk = browser.run(
        lambda: FrontendWalk(page, frontend_home_assistant.url, screenshots)
    )

    def add_switchboard() -> None:
        walk.onboard(**OWNER)
        walk.confirm_http_settings()
        walk.add_switchboard_telnyx(credentials)

    try:
        browser.run(add_switchboard)
        yield walk
    finally:
        browser.run(page.close)


@pytest.fixture
def calls_end(telnyx_simulator: SimulatorThread) -> Generator[None]:
    """Let every caller hang up after the test, also after one that failed."""
    yield
    telnyx_simulator.run_sync(telnyx_simulator.end_live_calls())


def ring_front_desk(telnyx: SimulatorThread) -> str:
    """Ada Lovelace calls the front desk; the call control id."""
    return telnyx.run_sync(telnyx.ring(FRONT_DESK, CALLER, CALLER_NAME))


def commands(telnyx: SimulatorThread, call_id: str) -> list[str]:
    """The call commands the simulator received for `call_id`."""
    return telnyx.run_sync(telnyx.commands(call_id))


def test_onboarded_and_added_in_the_browser(
    browser: ChromiumThread,
    walk: FrontendWalk,
    frontend_home_assistant: HassProcess,
    telnyx_simulator: SimulatorThread,
) -> None:
    hass = frontend_home_assistant
    token = browser.run(walk.access_token)

    onboarding = hass.expect("GET", "/api/onboarding", token=token)
    entries = hass.expect(
        "GET", "/api/config/config_entries/entry?domain=switchboard", token=token
    )
    devices = browser.run(
        lambda: walk.call_websocket({"type": "config/device_registry/list"})
    )

    assert {step["step"]: step["done"] for step in onboarding} == {
        "user": True,
        "core_config": True,
        "analytics": True,
        "integration": True,
    }
    [entry] = entries
    assert entry["title"] == "Front desk"
    assert entry["state"] == "loaded"
    names = {
        device["name"]
        for device in devices
        if entry["entry_id"] in device["config_entries"]
    }
    assert names == {FRONT_DESK, KITCHEN}
    [application] = telnyx_simulator.read_sync(
        lambda simulator: list(simulator.applications.values())
    )
    assert application["webhook_event_url"].startswith(f"{hass.url}/api/webhook/")


def test_answer_and_hang_up_on_the_device_page(
    browser: ChromiumThread,
    walk: FrontendWalk,
    telnyx_simulator: SimulatorThread,
    calls_end: None,
) -> None:
    def in_the_browser() -> None:
        walk.open_device(FRONT_DESK)
        walk.show_controls()
        walk.wait_for_row("Call", "Idle")
        walk.shoot("device-idle")

        call_id = ring_front_desk(telnyx_simulator)
        walk.wait_for_row("Call", "Ringing")
        walk.wait_for_row("Caller", CALLER_SHOWN)
        walk.shoot("device-ringing")

        walk.press_row("Answer")
        walk.wait_for_row("Call", "Talking")
        walk.shoot("device-talking")
        assert commands(telnyx_simulator, call_id) == ["answer"]

        walk.press_row("Hang up")
        walk.wait_for_row("Call", "Idle")
        walk.wait_for_row("Caller", "Unknown")
        walk.shoot("device-hung-up")
        assert commands(telnyx_simulator, call_id) == ["answer", "hangup"]

    browser.run(in_the_browser)


def test_call_card_on_a_dashboard(
    browser: ChromiumThread,
    walk: FrontendWalk,
    frontend_home_assistant: HassProcess,
    telnyx_simulator: SimulatorThread,
    calls_end: None,
) -> None:
    page = walk.page
    views = [{"title": "Calls", "path": "calls", "cards": [readme_call_card()]}]

    def in_the_browser() -> None:
        # Home Assistant 2026.10 shows new installs its "home" dashboard, not
        # the legacy default one: the card gets a dashboard of its own.
        walk.call_websocket(
            {
                "type": "lovelace/dashboards/create",
                "url_path": CALLS_DASHBOARD,
                "title": "Calls",
                "icon": "mdi:phone",
                "show_in_sidebar": True,
                "require_admin": False,
                "mode": "storage",
            }
        )
        walk.call_websocket(
            {
                "type": "lovelace/config/save",
                "url_path": CALLS_DASHBOARD,
                "config": {"title": "Calls", "views": views},
            }
        )
        page.goto(frontend_home_assistant.url)
        page.get_by_role("link", name="Calls", exact=True).click()
        tiles = page.locator("hui-tile-card")
        line = tiles.filter(has_text="Front desk line")
        caller = tiles.filter(has_text=CALLER_SHOWN)
        answer = page.get_by_role("button", name="Answer")
        decline = page.get_by_role("button", name="Decline")
        hang_up = page.get_by_role("button", name="Hang up")
        expect(line).to_contain_text("Idle")
        wait_hidden(caller, answer, decline, hang_up)
        walk.shoot("call-card-idle")

        call_id = ring_front_desk(telnyx_simulator)
        expect(line).to_contain_text("Ringing")
        wait_visible(caller, answer, decline)
        wait_hidden(hang_up)
        walk.shoot("call-card-ringing")

        answer.click()
        expect(line).to_contain_text("Talking")
        wait_visible(caller, hang_up)
        wait_hidden(answer, decline)
        walk.shoot("call-card-talking")
        assert commands(telnyx_simulator, call_id) == ["answer"]

        hang_up.click()
        expect(line).to_contain_text("Idle")
        wait_hidden(caller, hang_up)
        walk.shoot("call-card-hung-up")
        assert commands(telnyx_simulator, call_id) == ["answer", "hangup"]

    browser.run(in_the_browser)

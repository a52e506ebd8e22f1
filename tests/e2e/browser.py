"""Home Assistant's frontend as a user clicks through it, in Debian's chromium.

Playwright's locators pierce the open shadow roots the frontend is built of,
so the walk finds buttons, fields and texts by role and label, as a user
would; only entity rows and tiles, which have no role, by their element names.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
from typing import Any, Final

from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from .hass_process import REPOSITORY

DEBIAN_CHROMIUM: Final = Path("/usr/bin/chromium")
# Git-ignored; `scripts/develop` keeps its files under .develop/ too.
SCREENSHOTS: Final = REPOSITORY / ".develop" / "screenshots"
# Small enough for the README's images, wide enough for the sidebar.
VIEWPORT: Final[ViewportSize] = {"width": 900, "height": 600}
# Hangs only: how long the frontend may take to show what a step waits for.
WAIT_TIMEOUT_MS: Final = 30_000


def find_chromium() -> str | None:
    """Debian's chromium, or one on PATH; None where there is none."""
    if os.access(DEBIAN_CHROMIUM, os.X_OK):
        return str(DEBIAN_CHROMIUM)
    return shutil.which("chromium")


class ChromiumThread:
    """A headless chromium, driven by Playwright's sync API on a thread of its own.

    While Playwright runs, its event loop counts as running on its thread, and
    the test harness runs every test's fixtures on a loop of its own: the two
    cannot share a thread. Everything that touches the browser goes through
    `run`.
    """

    def __init__(self, executable: str) -> None:
        """Start Playwright and chromium (never a downloaded browser)."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="e2e-chromium")
        try:
            self._playwright = self.run(sync_playwright().start)
        except BaseException:
            self._executor.shutdown()
            raise
        try:
            self._browser: Browser = self.run(
                lambda: self._playwright.chromium.launch(
                    executable_path=executable, args=["--no-sandbox"], headless=True
                )
            )
        except BaseException:
            self.run(self._playwright.stop)
            self._executor.shutdown()
            raise

    def run[T](self, work: Callable[[], T]) -> T:
        """Run `work` on the browser's thread; return what it returns.

        Every Playwright wait has its own time-out, so `work` cannot hang.
        """
        return self._executor.submit(work).result()

    def new_page(self) -> Page:
        """A new tab (use it only inside `run`)."""
        return self.run(lambda: self._browser.new_page(viewport=VIEWPORT))

    def close(self) -> None:
        """Close chromium, stop Playwright and the thread."""
        try:
            self.run(self._browser.close)
        finally:
            self.run(self._playwright.stop)
            self._executor.shutdown()


@dataclass
class Screenshots:
    """One PNG per step, numbered in the order the steps were taken."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Start from an empty folder: no stale image from an earlier run."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)

    def take(self, page: Page, step: str) -> Path:
        """Save what the page shows now as ``NN-step.png``."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=path, animations="disabled")
        self.taken.append(path)
        return path


@dataclass(frozen=True)
class TelnyxCredentials:
    """What a user copies from the Telnyx portal (here: from the simulator)."""

    api_key: str
    public_key: str
    url: str
    application: str


class FrontendWalk:
    """A user's clicks through one Home Assistant's frontend."""

    def __init__(self, page: Page, url: str, screenshots: Screenshots) -> None:
        """Walk `page` through the Home Assistant at `url`."""
        self.page = page
        self.url = url
        self.screenshots = screenshots
        page.set_default_timeout(WAIT_TIMEOUT_MS)
        expect.set_options(timeout=WAIT_TIMEOUT_MS)

    def shoot(self, step: str) -> None:
        """Screenshot the current step."""
        self.screenshots.take(self.page, step)

    def button(self, name: str) -> Locator:
        """The button labelled exactly `name`."""
        return self.page.get_by_role("button", name=name, exact=True)

    def onboard(self, name: str, username: str, password: str) -> None:
        """Onboarding's pages: the owner, location, country, analytics, done."""
        page = self.page
        page.goto(self.url)
        expect(page.get_by_role("heading", name="Welcome!")).to_be_visible()
        self.shoot("onboarding-welcome")
        self.button("Create my smart home").click()

        page.get_by_role("textbox", name="Name*", exact=True).fill(name)
        page.get_by_role("textbox", name="Username*", exact=True).fill(username)
        page.get_by_role("textbox", name="Password*", exact=True).fill(password)
        page.get_by_role("textbox", name="Confirm password*", exact=True).fill(password)
        self.shoot("onboarding-owner")
        self.button("Create account").click()

        expect(page.get_by_role("heading", name="Home location")).to_be_visible()
        self.shoot("onboarding-home-location")
        self.button("Next").click()

        expect(page.get_by_text("know the country your home is in")).to_be_visible()
        self.shoot("onboarding-country")
        self.button("Next").click()

        expect(page.get_by_role("heading", name="Help us help you")).to_be_visible()
        self.shoot("onboarding-analytics")
        self.button("Next").click()

        expect(page.get_by_role("heading", name="All set!")).to_be_visible()
        self.shoot("onboarding-all-set")
        self.button("Finish").click()

    def confirm_http_settings(self) -> None:
        """Keep the HTTP settings of configuration.yaml (Home Assistant asks once).

        Unconfirmed, Home Assistant reverts them after five minutes and
        restarts on its default port.
        """
        title = self.page.get_by_text("Confirm new HTTP server configuration")
        expect(title).to_be_visible()
        self.shoot("confirm-http-settings")
        self.button("Confirm").click()
        expect(title).to_be_hidden()

    def add_switchboard_telnyx(self, credentials: TelnyxCredentials) -> None:
        """Settings → Devices & services → Add integration → Switchboard → Telnyx."""
        page = self.page
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Devices & services").click()
        self.button("Add integration").click()
        page.get_by_placeholder("Search for a brand name").fill("Switchboard")
        self.shoot("add-integration-search")
        self.button("Switchboard").click()

        expect(page.get_by_text("Add a phone provider")).to_be_visible()
        self.shoot("add-integration-provider")
        page.get_by_text("Telnyx Call Control").click()

        expect(page.get_by_text("Connect Telnyx")).to_be_visible()
        page.get_by_role("textbox", name="API key*").fill(credentials.api_key)
        page.get_by_role("textbox", name="Webhook public key*").fill(
            credentials.public_key
        )
        page.get_by_role("textbox", name="API URL").fill(credentials.url)
        self.shoot("add-integration-telnyx")
        self.button("Submit").click()

        expect(page.get_by_text("Choose the Call Control application")).to_be_visible()
        page.get_by_role("radio", name=credentials.application).check()
        self.shoot("add-integration-application")
        self.button("Submit").click()

        expect(page.get_by_text("Name and assign")).to_be_visible()
        self.shoot("add-integration-devices")
        self.button("Skip and finish").click()

    def open_device(self, name: str) -> None:
        """Settings → Devices & services → Switchboard → the device `name`."""
        page = self.page
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Devices & services").click()
        page.get_by_role("link", name="Switchboard").click()
        page.get_by_role("button", name=f"{name} Phone number").click()
        expect(self.page.get_by_role("heading", name="Device info")).to_be_visible()

    def show_controls(self) -> None:
        """Scroll the device page to its controls and sensors."""
        self.page.get_by_role("heading", name="Controls").evaluate(
            "heading => heading.scrollIntoView({block: 'start'})"
        )

    def entity_row(self, name: str) -> Locator:
        """The device page's row of the entity called `name`."""
        return self.page.locator("hui-generic-entity-row").filter(
            has=self.page.get_by_text(name, exact=True)
        )

    def wait_for_row(self, name: str, shows: str) -> None:
        """Wait until the row of the entity `name` shows `shows`."""
        expect(self.entity_row(name)).to_contain_text(shows)

    def press_row(self, name: str) -> None:
        """Press the button entity `name` on the device page (its Press button)."""
        self.entity_row(name).get_by_role("button", name="Press").click()

    def call_websocket(self, message: dict[str, Any]) -> Any:
        """Send one message over the frontend's own websocket connection."""
        return self.page.evaluate(
            "message => document.querySelector('home-assistant').hass.callWS(message)",
            message,
        )

    def access_token(self) -> str:
        """The signed-in user's access token, as the frontend holds it."""
        token: str = self.page.evaluate(
            "() => document.querySelector('home-assistant').hass.auth.accessToken"
        )
        return token


def wait_visible(*locators: Locator) -> None:
    """Wait until every locator shows."""
    for locator in locators:
        expect(locator).to_be_visible()


def wait_hidden(*locators: Locator) -> None:
    """Wait until no locator shows."""
    for locator in locators:
        expect(locator).to_be_hidden()

"""The blueprints: each one set up in Home Assistant and driven by real calls."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from datetime import date, datetime, time, timedelta
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import quote

import freezegun.api
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import importer
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.switchboard.providers.model import CallAction
from tests.const import CALLER, FRONT_DESK
from tests.contract.conftest import started
from tests.contract.harness import (
    CALLER_NAME,
    SECOND_CALLER,
    Capability,
    Command,
    Harness,
)
from tests.contract.providers import PROVIDERS, capable
from tests.contract.providers.telnyx import TelnyxHarness
from tests.helpers import device_of, state_of

from .blueprints import (
    AUTOMATION,
    ActivityWaits,
    answers_sent,
    blueprint_files,
    source_url,
    until,
    use_blueprint,
)

README = Path(__file__).parents[1] / "README.md"
IMPORT_LINK = "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url="
MONDAY, SATURDAY = 0, 5
PHONE = "Pixel 8"
LIGHT = "light.hall"
# The Genesys simulator holds its long polls by time.monotonic: real time.
FREEZE_WALL_CLOCK = pytest.mark.freeze_time(ignore=["tests.simulators.genesys"])


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give each test its own configuration folder to install blueprints in."""
    return hass_tmp_config_dir


@pytest.fixture(autouse=True)
def quiet_access_log(caplog: pytest.LogCaptureFixture) -> None:
    """Keep aiohttp's access log off: a frozen clock has no UTC offset for it."""
    caplog.set_level(logging.WARNING, logger="aiohttp.access")


@pytest.fixture
def wall_clock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> Generator[FrozenDateTimeFactory]:
    """Freeze and move the time of day only.

    Home Assistant's test loop reads the frozen clock too; here timers, long
    polls and timeouts keep real time, so the providers' streams go on.
    """
    # Read from freezegun itself: freezing swaps every other module's copy.
    with patch.object(hass.loop, "time", freezegun.api.real_monotonic):
        yield freezer


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest, hass: HomeAssistant) -> Harness:
    """Each provider in turn, set up against its simulator."""
    return started(request, hass)


def upcoming(weekday: int) -> date:
    """The next `weekday` after today (Monday is 0).

    Frozen times lie ahead of the real clock: the Graph client times its
    answer window by the real clock, the webhook by the frozen one.
    """
    today = dt_util.now().date()
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time on `day`, in Home Assistant's time zone."""
    return datetime.combine(
        day, time(hour, minute), tzinfo=dt_util.get_default_time_zone()
    )


async def ring_and_let_go(harness: Harness, number: str) -> bool:
    """Ring from `number`; return whether the answer reached the provider.

    An answered call is hung up, one left ringing is given up by the caller,
    so the next call finds the line idle.
    """
    call_id = await harness.ring(number)
    # What the automation's answer set off at the provider arrives too.
    await harness.settle()
    answered = bool(answers_sent(harness, call_id))
    sensor = state_of(harness.hass, harness.sensor)
    assert sensor.attributes["call_id"] == call_id
    if answered:
        assert sensor.state == "talking"
        await harness.act("hangup_call", call_id=call_id)
    else:
        assert sensor.state == "ringing"
        await harness.hang_up_remotely(call_id)
    await harness.settle()
    assert state_of(harness.hass, harness.sensor).state == "idle"
    return answered


def pass_time(hass: HomeAssistant, seconds: float) -> None:
    """Run the timers due within `seconds` (a flash's wait, say)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


# ------------------------------------------------------------------ the files


@pytest.mark.parametrize("path", blueprint_files(), ids=lambda path: path.name)
def test_blueprint_is_valid_and_linked(path: Path) -> None:
    blueprint = Blueprint(
        yaml_util.load_yaml_dict(path),
        path=path.name,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.validate() is None
    assert blueprint.metadata["homeassistant"] == {"min_version": "2026.10.0"}
    url = source_url(path.name)
    assert blueprint.metadata["source_url"] == url
    readme = README.read_text(encoding="utf-8")
    assert f"{IMPORT_LINK}{quote(url, safe='')})" in readme


def test_the_six_blueprints_are_shipped() -> None:
    assert [path.name for path in blueprint_files()] == [
        "announce_call.yaml",
        "auto_answer.yaml",
        "flash_light_while_ringing.yaml",
        "gate_intercom.yaml",
        "missed_call_notify.yaml",
        "out_of_hours.yaml",
    ]


async def test_import_from_github(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Home Assistant's own import, which the README's links start, reads each."""
    for path in blueprint_files():
        url = source_url(path.name)
        aioclient_mock.get(
            importer._get_github_import_url(url),
            text=path.read_text(encoding="utf-8"),
        )
        imported = await importer.fetch_blueprint_from_url(hass, url)
        assert imported.blueprint.domain == "automation"
        assert imported.blueprint.metadata["source_url"] == url
        assert imported.suggested_filename == f"switchboard-ha/{path.stem}"


# ---------------------------------------------------------------- auto-answer


@FREEZE_WALL_CLOCK
async def test_auto_answer_only_its_numbers_within_its_hours(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    monday = upcoming(MONDAY)
    wall_clock.move_to(at(monday, 10))
    await use_blueprint(
        hass,
        "auto_answer.yaml",
        phone_lines=[device_of(hass, harness.event)],
        # Written the way people write numbers: only the digits count.
        callers=["+1 (555) 765-4321", "+1 555 000 2222"],
        answer_from="08:00:00",
        answer_until="18:00:00",
    )

    assert not await ring_and_let_go(harness, SECOND_CALLER)
    assert await ring_and_let_go(harness, CALLER)

    wall_clock.move_to(at(monday, 18, 30))
    assert not await ring_and_let_go(harness, CALLER)
    wall_clock.move_to(at(monday, 7, 59) + timedelta(days=1))
    assert not await ring_and_let_go(harness, CALLER)
    wall_clock.move_to(at(monday, 8) + timedelta(days=1))
    assert await ring_and_let_go(harness, CALLER)


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_auto_answer_everyone_through_the_night(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    monday = upcoming(MONDAY)
    wall_clock.move_to(at(monday, 21, 59))
    await use_blueprint(
        hass,
        "auto_answer.yaml",
        phone_lines=[device_of(hass, harness.event)],
        answer_from="22:00:00",
        answer_until="06:00:00",
    )

    assert not await ring_and_let_go(harness, CALLER)
    wall_clock.move_to(at(monday, 23, 30))
    assert await ring_and_let_go(harness, SECOND_CALLER)
    wall_clock.move_to(at(monday, 2) + timedelta(days=1))
    assert await ring_and_let_go(harness, CALLER)
    wall_clock.move_to(at(monday, 6) + timedelta(days=1))
    assert not await ring_and_let_go(harness, CALLER)
    wall_clock.move_to(at(monday, 12) + timedelta(days=1))
    assert not await ring_and_let_go(harness, SECOND_CALLER)


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_auto_answer_on_its_days_only(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    saturday = upcoming(SATURDAY)
    wall_clock.move_to(at(saturday, 12))
    await use_blueprint(
        hass,
        "auto_answer.yaml",
        phone_lines=[device_of(hass, harness.event)],
        answer_days=["mon", "tue", "wed", "thu", "fri"],
    )

    assert not await ring_and_let_go(harness, CALLER)
    wall_clock.move_to(at(saturday, 12) + timedelta(days=2))
    assert await ring_and_let_go(harness, CALLER)


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_auto_answer_answers_the_matching_call_of_two(
    hass: HomeAssistant, harness: Harness
) -> None:
    await use_blueprint(
        hass,
        "auto_answer.yaml",
        phone_lines=[device_of(hass, harness.event)],
        callers=[CALLER],
    )

    other = await harness.ring(SECOND_CALLER)
    wanted = await harness.ring(CALLER)

    assert answers_sent(harness, other) == []
    assert len(answers_sent(harness, wanted)) == 1
    sensor = state_of(hass, harness.sensor)
    assert sensor.attributes["active_calls"] == 2
    assert sensor.state == "ringing"
    assert sensor.attributes["call_id"] == other


# ------------------------------------------------------------------- announce


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_announce_says_the_caller(hass: HomeAssistant, harness: Harness) -> None:
    spoken = async_mock_service(hass, "tts", "speak")
    await use_blueprint(
        hass,
        "announce_call.yaml",
        phone_lines=[device_of(hass, harness.event)],
        tts_engine="tts.piper",
        media_players=["media_player.kitchen", "media_player.hall"],
    )

    await harness.ring(CALLER, CALLER_NAME)
    assert len(spoken) == 1
    assert spoken[0].data == {
        "entity_id": ["tts.piper"],
        "media_player_entity_id": ["media_player.kitchen", "media_player.hall"],
        "message": f"Incoming call from {CALLER_NAME}.",
    }

    # Without a name, the number is said digit by digit.
    await harness.ring(SECOND_CALLER, SECOND_CALLER)
    assert [call.data["message"] for call in spoken[1:]] == [
        "Incoming call from +1 5 5 5 0 0 0 1 1 1 1."
    ]


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_announce_with_own_words(hass: HomeAssistant, harness: Harness) -> None:
    spoken = async_mock_service(hass, "tts", "speak")
    await use_blueprint(
        hass,
        "announce_call.yaml",
        phone_lines=[device_of(hass, harness.event)],
        tts_engine="tts.piper",
        media_players=["media_player.kitchen"],
        message="Anruf von {{ call.caller }} auf {{ call.line }}",
        unknown_caller="Unbekannt",
    )

    await harness.ring("", "")
    await harness.ring(CALLER, CALLER_NAME)
    assert [call.data["message"] for call in spoken] == [
        f"Anruf von Unbekannt auf {FRONT_DESK}",
        f"Anruf von {CALLER_NAME} auf {FRONT_DESK}",
    ]


# --------------------------------------------------------------- missed calls


def add_phone(hass: HomeAssistant) -> str:
    """A phone with the Home Assistant app, as mobile_app registers it."""
    entry = MockConfigEntry(domain="mobile_app", title=PHONE)
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("mobile_app", "pixel-8-webhook")},
        name=PHONE,
        manufacturer="Google",
    )
    return device.id


def call_back(number: str) -> dict[str, Any]:
    """What a notification carries to call `number` back."""
    link = f"tel:{number}"
    return {
        "url": link,
        "clickAction": link,
        "actions": [{"action": "URI", "title": "Call back", "uri": link}],
    }


async def miss(harness: Harness, number: str, name: str) -> str:
    """A call from `number` (`name`) that nobody answers; return its id."""
    call_id = await harness.ring(number, name)
    await harness.abandon(call_id)
    await harness.settle()
    return call_id


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_missed_call_notifies_once_per_call(
    hass: HomeAssistant, harness: Harness
) -> None:
    sent = async_mock_service(hass, "notify", "mobile_app_pixel_8")
    await use_blueprint(
        hass,
        "missed_call_notify.yaml",
        phone_lines=[device_of(hass, harness.event)],
        notify_phone=add_phone(hass),
    )

    first = await miss(harness, CALLER, CALLER_NAME)
    assert len(sent) == 1
    answered = await harness.ring(CALLER, CALLER_NAME)
    await harness.act("answer_call", call_id=answered)
    await harness.settle()
    await harness.hang_up_remotely(answered)
    await harness.settle()
    assert len(sent) == 1
    # The provider delivers each event twice: still one notification.
    harness.duplicate_deliveries()
    second = await miss(harness, SECOND_CALLER, SECOND_CALLER)
    assert len(sent) == 2
    withheld = await miss(harness, "", "")

    assert [call.data for call in sent] == [
        {
            "title": "Missed call",
            "message": f"{CALLER_NAME} ({CALLER}) called {FRONT_DESK}.",
            "data": {
                "tag": f"switchboard_missed_{first}",
                "group": "switchboard_missed_calls",
                **call_back(CALLER),
            },
        },
        {
            "title": "Missed call",
            "message": f"{SECOND_CALLER} called {FRONT_DESK}.",
            "data": {
                "tag": f"switchboard_missed_{second}",
                "group": "switchboard_missed_calls",
                **call_back(SECOND_CALLER),
            },
        },
        {
            "title": "Missed call",
            "message": f"An unknown caller called {FRONT_DESK}.",
            "data": {
                "tag": f"switchboard_missed_{withheld}",
                "group": "switchboard_missed_calls",
            },
        },
    ]


# ------------------------------------------------------------------ the light


async def add_light(hass: HomeAssistant, *, colors: bool = False) -> None:
    """A dimmable light that remembers what it was told (a template light)."""
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "light": [
                        {
                            "name": "Hall",
                            "turn_on": [],
                            "turn_off": [],
                            "set_level": [],
                            **({"set_rgb": []} if colors else {}),
                        }
                    ]
                }
            ]
        },
    )
    assert await async_setup_component(hass, "scene", {})
    await hass.async_block_till_done()
    await hass.services.async_call(
        "light", "turn_on", {"entity_id": LIGHT, "brightness": 77}, blocking=True
    )
    assert state_of(hass, LIGHT).attributes["brightness"] == 77


class LightChanges:
    """The states a light takes, awaited one by one.

    While the lights flash, the automation runs on (it waits between
    flashes), so nothing here waits for Home Assistant to be idle.
    """

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        """Start recording the light's changes."""
        self.seen: list[tuple[str, Any]] = []
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        @callback
        def _changed(event: Event[EventStateChangedData]) -> None:
            if state := event.data["new_state"]:
                change = (state.state, state.attributes.get("brightness"))
                self.seen.append(change)
                self._queue.put_nowait(change)

        async_track_state_change_event(hass, entity_id, _changed)

    async def next(self) -> tuple[str, Any]:
        """The light's next state and brightness."""
        async with asyncio.timeout(10):
            return await self._queue.get()


async def flash_automation(
    hass: HomeAssistant, harness: Harness, **inputs: Any
) -> LightChanges:
    """The flash blueprint on the harness's line and the hall light."""
    await use_blueprint(
        hass,
        "flash_light_while_ringing.yaml",
        phone_lines=[device_of(hass, harness.event)],
        lights=[LIGHT],
        **inputs,
    )
    return LightChanges(hass, LIGHT)


def flash_ended(hass: HomeAssistant) -> bool:
    """Whether the automation has finished and removed its snapshot."""
    return (
        state_of(hass, AUTOMATION).attributes["current"] == 0
        and hass.states.get("scene.switchboard_flash_switchboard_blueprint") is None
    )


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_flash_light_while_ringing_then_restore(
    hass: HomeAssistant, harness: Harness
) -> None:
    await add_light(hass)
    light = await flash_automation(hass, harness, interval=1)

    call_id = await harness.start_ring(CALLER, CALLER_NAME)
    assert await light.next() == ("on", 255)
    pass_time(hass, 1)
    assert await light.next() == ("off", None)
    pass_time(hass, 1)
    assert await light.next() == ("on", 255)

    await harness.act("answer_call", call_id=call_id)
    # Flashing stops at once; the light is back as it was.
    assert await light.next() == ("on", 77)
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "talking"
    assert flash_ended(hass)
    pass_time(hass, 5)
    await hass.async_block_till_done()
    assert light.seen == [("on", 255), ("off", None), ("on", 255), ("on", 77)]


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_flash_light_stops_when_the_caller_gives_up(
    hass: HomeAssistant, harness: Harness
) -> None:
    await add_light(hass, colors=True)
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": LIGHT}, blocking=True
    )
    light = await flash_automation(hass, harness, flash_color=[255, 0, 0])

    call_id = await harness.start_ring(CALLER, CALLER_NAME)
    assert await light.next() == ("on", 255)
    assert state_of(hass, LIGHT).attributes["rgb_color"] == (255, 0, 0)
    await harness.abandon(call_id)
    assert await light.next() == ("off", None)
    await harness.settle()
    assert state_of(hass, harness.sensor).state == "idle"
    assert flash_ended(hass)
    pass_time(hass, 5)
    await hass.async_block_till_done()
    # It was off before the call: the snapshot leaves it off.
    assert light.seen == [("on", 255), ("off", None)]


# --------------------------------------------------------------- gate intercom

GATE = "lock.front_gate"
GARAGE = "cover.garage_door"
PROMPT = "Press 1 to open the gate."
PROMPT_AUDIO = "https://media.example.com/gate.wav"


@pytest.fixture
def activity_waits(monkeypatch: pytest.MonkeyPatch) -> ActivityWaits:
    """Count the automation's waits for call activity."""
    return ActivityWaits(monkeypatch)


async def gate_automation(hass: HomeAssistant, harness: Harness, **inputs: Any) -> None:
    """The gate blueprint on the harness's line, for calls from the usual caller."""
    await use_blueprint(
        hass,
        "gate_intercom.yaml",
        phone_line=device_of(hass, harness.event),
        # Written the way people write numbers: only the digits count.
        **{"gate_numbers": ["+1 (555) 765-4321"], "gate": GATE, **inputs},
    )


def telnyx_body(harness: Harness, command: str) -> dict[str, Any]:
    """The body of the one Telnyx `command` the simulator received."""
    assert isinstance(harness, TelnyxHarness)
    (request,) = [
        request
        for request in harness.simulator.requests
        if request.path.endswith(f"/actions/{command}")
    ]
    assert isinstance(request.body, dict)
    return request.body


def sent(harness: Harness) -> list[tuple[CallAction | None, str | None, Any]]:
    """The call commands the simulator received: action, call, argument."""
    return [(c.action, c.call_id, c.argument) for c in harness.commands()]


async def answered_and_prompted(
    harness: Harness, waits: ActivityWaits, action: CallAction = CallAction.SPEAK
) -> str:
    """Ring from the gate; return the call once the automation waits for keys."""
    call_id = await harness.start_ring(CALLER, CALLER_NAME)
    await until(lambda: bool(harness.sent(action)))
    await until(lambda: waits.count == 1)
    return call_id


async def finished(hass: HomeAssistant, harness: Harness) -> None:
    """Wait for the automation to end; then for what it set off."""
    await until(lambda: state_of(hass, AUTOMATION).attributes["current"] == 0)
    await harness.settle()


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_opens_on_the_right_key_then_hangs_up(
    hass: HomeAssistant, harness: Harness, activity_waits: ActivityWaits
) -> None:
    unlocked = async_mock_service(hass, "lock", "unlock")
    await gate_automation(hass, harness, language="en-US")

    call_id = await answered_and_prompted(harness, activity_waits)
    assert sent(harness) == [
        (CallAction.ANSWER, call_id, None),
        (CallAction.SPEAK, call_id, PROMPT),
    ]
    assert telnyx_body(harness, "speak")["language"] == "en-US"
    assert unlocked == []

    await harness.press(call_id, "1")
    await finished(hass, harness)
    assert [call.data for call in unlocked] == [{"entity_id": [GATE]}]
    assert sent(harness)[2:] == [(CallAction.HANGUP, call_id, None)]
    assert state_of(hass, harness.sensor).state == "idle"
    assert state_of(hass, harness.last_call).attributes["outcome"] == "answered"


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_opens_a_cover_on_a_gathered_code(
    hass: HomeAssistant, harness: Harness, activity_waits: ActivityWaits
) -> None:
    opened = async_mock_service(hass, "cover", "open_cover")
    # Telnyx gathers the four keys and reports them once, together.
    await gate_automation(
        hass,
        harness,
        gate=GARAGE,
        code="0815",
        prompt="Enter the code.",
        prompt_options={"maximum_digits": 4, "valid_digits": "0123456789#"},
    )

    call_id = await answered_and_prompted(harness, activity_waits)
    gather = telnyx_body(harness, "gather_using_speak")
    assert gather["payload"] == "Enter the code."
    assert gather["maximum_digits"] == 4

    await harness.press(call_id, "0815")
    await finished(hass, harness)
    # A code that starts with 0 stays a code.
    assert [call.data for call in opened] == [{"entity_id": [GARAGE]}]
    assert sent(harness)[-1] == (CallAction.HANGUP, call_id, None)
    assert state_of(hass, harness.sensor).state == "idle"


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_takes_a_code_key_by_key(
    hass: HomeAssistant, harness: Harness, activity_waits: ActivityWaits
) -> None:
    unlocked = async_mock_service(hass, "lock", "unlock")
    await gate_automation(hass, harness, code="42")

    call_id = await answered_and_prompted(harness, activity_waits)
    # A wrong key first: the code still opens when it follows.
    await harness.press(call_id, "7")
    await until(lambda: activity_waits.count == 2)
    assert unlocked == []
    await harness.press(call_id, "4")
    await until(lambda: activity_waits.count == 3)
    assert unlocked == []
    await harness.press(call_id, "2")
    await finished(hass, harness)
    assert [call.data for call in unlocked] == [{"entity_id": [GATE]}]


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_hangs_up_after_a_wrong_key_and_the_time(
    hass: HomeAssistant, harness: Harness, activity_waits: ActivityWaits
) -> None:
    unlocked = async_mock_service(hass, "lock", "unlock")
    await gate_automation(hass, harness, timeout=10)

    call_id = await answered_and_prompted(harness, activity_waits)
    await harness.press(call_id, "5")
    # The wrong key is let go: the automation waits on.
    await until(lambda: activity_waits.count == 2)
    assert state_of(hass, AUTOMATION).attributes["current"] == 1
    pass_time(hass, 11)
    await finished(hass, harness)
    assert unlocked == []
    assert sent(harness)[-1] == (CallAction.HANGUP, call_id, None)
    assert state_of(hass, harness.sensor).state == "idle"


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_hangs_up_when_nothing_is_pressed(
    hass: HomeAssistant, harness: Harness, activity_waits: ActivityWaits
) -> None:
    unlocked = async_mock_service(hass, "lock", "unlock")
    await gate_automation(hass, harness)

    call_id = await answered_and_prompted(harness, activity_waits)
    pass_time(hass, 21)
    await finished(hass, harness)
    assert unlocked == []
    assert sent(harness) == [
        (CallAction.ANSWER, call_id, None),
        (CallAction.SPEAK, call_id, PROMPT),
        (CallAction.HANGUP, call_id, None),
    ]


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_lets_a_caller_who_hangs_up_go(
    hass: HomeAssistant, harness: Harness, activity_waits: ActivityWaits
) -> None:
    unlocked = async_mock_service(hass, "lock", "unlock")
    await gate_automation(hass, harness)

    call_id = await answered_and_prompted(harness, activity_waits)
    await harness.hang_up_remotely(call_id)
    await finished(hass, harness)
    assert unlocked == []
    # Nothing left to hang up.
    assert not harness.sent(CallAction.HANGUP)
    assert state_of(hass, harness.sensor).state == "idle"


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_plays_an_audio_prompt(
    hass: HomeAssistant, harness: Harness, activity_waits: ActivityWaits
) -> None:
    unlocked = async_mock_service(hass, "lock", "unlock")
    await gate_automation(hass, harness, prompt_audio=PROMPT_AUDIO)

    call_id = await answered_and_prompted(harness, activity_waits, CallAction.PLAY)
    assert sent(harness) == [
        (CallAction.ANSWER, call_id, None),
        (CallAction.PLAY, call_id, PROMPT_AUDIO),
    ]
    await harness.press(call_id, "1")
    await finished(hass, harness)
    assert len(unlocked) == 1


@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_gate_leaves_other_callers_alone(
    hass: HomeAssistant, harness: Harness
) -> None:
    unlocked = async_mock_service(hass, "lock", "unlock")
    await gate_automation(hass, harness)

    call_id = await harness.ring(SECOND_CALLER, SECOND_CALLER)
    assert harness.commands() == []
    assert state_of(hass, harness.sensor).state == "ringing"
    await harness.hang_up_remotely(call_id)
    await harness.settle()
    assert unlocked == []


# --------------------------------------------------------------- out of hours

CLOSED = "We are closed. Please call again tomorrow."
ON_CALL = "+15550100777"


async def out_of_hours_automation(
    hass: HomeAssistant, harness: Harness, **inputs: Any
) -> None:
    """The greeting on the harness's line: open 09:00 to 17:00, Monday to Friday."""
    await use_blueprint(
        hass,
        "out_of_hours.yaml",
        phone_lines=[device_of(hass, harness.event)],
        **{"message_seconds": 0, **inputs},
    )


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_out_of_hours_says_the_message_then_transfers(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    monday = upcoming(MONDAY)
    wall_clock.move_to(at(monday, 10))
    await out_of_hours_automation(
        hass, harness, message=CLOSED, language="en-GB", transfer_to=ON_CALL
    )

    # Open: the call rings as usual.
    assert not await ring_and_let_go(harness, CALLER)
    assert harness.commands() == []

    wall_clock.move_to(at(monday, 18, 30))
    call_id = await harness.ring(CALLER, CALLER_NAME)
    assert sent(harness) == [
        (CallAction.ANSWER, call_id, None),
        (CallAction.SPEAK, call_id, CLOSED),
        (CallAction.TRANSFER, call_id, ON_CALL),
    ]
    assert telnyx_body(harness, "speak")["language"] == "en-GB"
    await harness.complete_transfer(call_id)
    assert state_of(hass, harness.sensor).state == "idle"
    assert state_of(hass, harness.last_call).attributes["outcome"] == "transferred"


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_out_of_hours_hangs_up_without_a_number(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    saturday = upcoming(SATURDAY)
    # Closed all day on a Saturday.
    wall_clock.move_to(at(saturday, 12))
    await out_of_hours_automation(hass, harness, voice="male")

    call_id = await harness.ring(CALLER, CALLER_NAME)
    await harness.settle()
    assert [action for action, _, _ in sent(harness)] == [
        CallAction.ANSWER,
        CallAction.SPEAK,
        CallAction.HANGUP,
    ]
    speak = telnyx_body(harness, "speak")
    assert speak["voice"] == "male"
    assert speak["payload"].startswith("Thank you for calling. We are closed")
    assert state_of(hass, harness.sensor).state == "idle"
    last = state_of(hass, harness.last_call).attributes
    assert (last["call_id"], last["outcome"]) == (call_id, "answered")


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_out_of_hours_hangs_up_when_the_transfer_is_refused(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    wall_clock.move_to(at(upcoming(MONDAY), 22))
    await out_of_hours_automation(hass, harness, message=CLOSED, transfer_to=ON_CALL)
    harness.refuse_next(CallAction.TRANSFER, 503)

    call_id = await harness.ring(CALLER, CALLER_NAME)
    await harness.settle()
    # Not left on a silent line.
    assert sent(harness) == [
        (CallAction.ANSWER, call_id, None),
        (CallAction.SPEAK, call_id, CLOSED),
        (CallAction.TRANSFER, call_id, ON_CALL),
        (CallAction.HANGUP, call_id, None),
    ]
    assert state_of(hass, harness.sensor).state == "idle"
    assert state_of(hass, harness.last_call).attributes["outcome"] == "answered"


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_out_of_hours_plays_a_recording(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    wall_clock.move_to(at(upcoming(MONDAY), 7))
    await out_of_hours_automation(
        hass, harness, audio_url=PROMPT_AUDIO, transfer_to=ON_CALL
    )

    call_id = await harness.ring(CALLER, CALLER_NAME)
    assert sent(harness) == [
        (CallAction.ANSWER, call_id, None),
        (CallAction.PLAY, call_id, PROMPT_AUDIO),
        (CallAction.TRANSFER, call_id, ON_CALL),
    ]


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", ["telnyx"], indirect=True)
async def test_out_of_hours_waits_for_the_message_and_lets_a_caller_go(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    wall_clock.move_to(at(upcoming(MONDAY), 20))
    await out_of_hours_automation(
        hass, harness, message=CLOSED, message_seconds=8, transfer_to=ON_CALL
    )

    call_id = await harness.start_ring(CALLER, CALLER_NAME)
    await until(lambda: bool(harness.sent(CallAction.SPEAK)))
    # During the message, the caller hangs up.
    await harness.hang_up_remotely(call_id)
    await until(lambda: state_of(hass, harness.sensor).state == "idle")
    pass_time(hass, 9)
    await finished(hass, harness)
    # The message was waited for, and then the caller was gone: neither a
    # transfer nor a hang-up.
    assert [action for action, _, _ in sent(harness)] == [
        CallAction.ANSWER,
        CallAction.SPEAK,
    ]


@FREEZE_WALL_CLOCK
@pytest.mark.parametrize("harness", capable(Capability.TRANSFER), indirect=True)
async def test_out_of_hours_transfers_at_once_on_every_provider(
    hass: HomeAssistant, wall_clock: FrozenDateTimeFactory, harness: Harness
) -> None:
    wall_clock.move_to(at(upcoming(SATURDAY), 10))
    # No message: nothing to wait for.
    await out_of_hours_automation(
        hass, harness, message="", message_seconds=30, transfer_to=harness.transfer_to
    )

    call_id = await harness.ring(CALLER, CALLER_NAME)
    await harness.settle()
    # (Teams may send the answer twice: a token the moved clock aged is renewed.)
    assert answers_sent(harness, call_id)
    assert harness.sent(CallAction.TRANSFER) == [
        Command(CallAction.TRANSFER, call_id, harness.transfer_to)
    ]
    assert not harness.sent(CallAction.SPEAK)
    await harness.complete_transfer(call_id)
    assert state_of(hass, harness.sensor).state == "idle"
    assert state_of(hass, harness.last_call).attributes["outcome"] == "transferred"

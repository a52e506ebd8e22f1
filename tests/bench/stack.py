"""What `scripts/bench` runs on: a real `hass`, the Telnyx simulator, the entries.

The config dir is `.develop/bench/config/`, made afresh each run: the
checkout's integration linked into ``custom_components/switchboard``, the
floor integration copied beside it, and two automations (off until the ring
to answer figure turns them on). `hass` is started from that dir, so that
its own ``custom_components`` is the one on the path. The simulator runs in
the bench's own loop.

Entries, added through the config-flow REST API: Switchboard on Telnyx
applications of 2, 1,000, 1 and 100 numbers, and the floor on the same sizes,
each floor on an application of its own whose webhook points at the floor.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
import shutil
import time
from typing import Any, Final
import uuid

from aiohttp import web
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID

from custom_components.switchboard.const import (
    CONF_APPLICATION_ID,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
    DOMAIN,
)
from tests.benchmarks.telnyx_traffic import TelnyxTraffic
from tests.develop.http_store import write_http_settings
from tests.develop.state import FOLDER, LOOPBACK
from tests.e2e.hass_process import INTEGRATION, HassProcess, free_port
from tests.simulators.telnyx import TelnyxSimulator

from .floor_integration import (
    AS_SWITCHBOARD,
    CONF_NUMBERS,
    CONF_WRITES,
    DOMAIN as FLOOR_DOMAIN,
    EVENT_RING,
)

BENCH_FOLDER: Final = FOLDER / "bench"
FLOOR_SOURCE: Final = Path(__file__).with_name("floor_integration")
OWNER: Final = {"name": "Bench", "username": "bench", "password": "bench-password"}
SIZES: Final = (2, 1000, 1, 100)
# The floor that writes as many entity states as Switchboard: for information.
SAME_WRITES_SIZES: Final = (2, 1000)
# How long an entry may take to load: hangs only.
LOAD_TIMEOUT: Final = 120.0

CONFIGURATION: Final = """\
homeassistant:
  name: Switchboard bench
  external_url: {url}
  internal_url: {url}
  country: US
  time_zone: UTC
  unit_system: metric
  latitude: 0
  longitude: 0
  elevation: 0
api:
config:
onboarding:
person:
automation: !include automations.yaml
logger:
  default: warning
"""

# Off until the ring-to-answer figure: the other figures send no answer.
AUTOMATIONS: Final = f"""\
- id: bench_switchboard_answer
  alias: Switchboard answers each incoming call
  initial_state: false
  mode: parallel
  max: 1000
  max_exceeded: warning
  triggers:
    - trigger: event
      event_type: {DOMAIN}_call_activity
      event_data:
        event_type: incoming
  actions:
    - action: {DOMAIN}.answer_call
      target:
        device_id: "{{{{ trigger.event.data.device_id }}}}"
      data:
        call_id: "{{{{ trigger.event.data.call_id }}}}"
- id: bench_floor_answer
  alias: The floor answers each ring
  initial_state: false
  mode: parallel
  max: 1000
  max_exceeded: warning
  triggers:
    - trigger: event
      event_type: {EVENT_RING}
  actions:
    - action: {FLOOR_DOMAIN}.answer
      data:
        entry_id: "{{{{ trigger.event.data.entry_id }}}}"
        call_id: "{{{{ trigger.event.data.call_id }}}}"
"""
AUTOMATION_IDS: Final = {
    "switchboard": "automation.switchboard_answers_each_incoming_call",
    "floor": "automation.the_floor_answers_each_ring",
}


class TimedTelnyx(TelnyxSimulator):
    """The Telnyx simulator, noting when each call's answer command arrived."""

    def __init__(self) -> None:
        """Quick webhook retries: a slow `hass` is what is measured, not retried."""
        super().__init__(webhook_retry_delays=(0.05, 0.2, 1.0), webhook_timeout=10.0)
        self.answered_at: dict[str, float] = {}
        self.answer_waiters: dict[str, asyncio.Future[float]] = {}

    async def _post_action(self, request: web.Request) -> web.Response:
        if request.match_info.get("action") == "answer":
            call_id = request.match_info["call_control_id"]
            now = time.perf_counter()
            self.answered_at.setdefault(call_id, now)
            waiter = self.answer_waiters.get(call_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
        return await super()._post_action(request)


@dataclass
class Side:
    """One entry of a given size: Switchboard's or the floor's."""

    kind: str  # "switchboard", "floor", or "same" (the floor writing as much)
    size: int
    application_id: str
    numbers: tuple[str, ...]
    entry_id: str = ""
    webhook_id: str = ""
    traffic: TelnyxTraffic | None = None

    def call_entity(self, number: str) -> str:
        """The entity whose state a delivery to `number` writes first."""
        slug = number.lstrip("+")
        if self.kind == "switchboard":
            return f"sensor.{slug}_call"
        return f"sensor.floor_{slug}"


@dataclass
class Stack:
    """The running bench: simulator, `hass`, token, entries."""

    simulator: TimedTelnyx
    hass: HassProcess
    token: str = ""
    sides: dict[tuple[str, int], Side] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        """The `hass` process id."""
        assert self.hass.process is not None
        return self.hass.process.pid

    def side(self, kind: str, size: int) -> Side:
        """The entry of `kind` with `size` numbers."""
        return self.sides[kind, size]


def numbers_for(application: int, size: int) -> tuple[str, ...]:
    """Distinct E.164 numbers for one application."""
    return tuple(f"+1555{application}{n:06d}" for n in range(size))


async def async_start(seed: int) -> Stack:
    """Serve the simulator, start `hass`, onboard, add every entry."""
    simulator = TimedTelnyx()
    sides: dict[tuple[str, int], Side] = {}
    plan = [(kind, size) for kind in ("switchboard", "floor") for size in SIZES]
    plan += [("same", size) for size in SAME_WRITES_SIZES]
    for index, (kind, size) in enumerate(plan):
        application_id = simulator.add_application(f"{kind} {size}")
        numbers = numbers_for(index, size)
        for number in numbers:
            simulator.add_phone_number(application_id, number)
        sides[kind, size] = Side(kind, size, application_id, numbers)
    await simulator.start()
    config = BENCH_FOLDER / "config"
    if config.exists():
        shutil.rmtree(config)
    hass = HassProcess(config, port=free_port())
    _write_config(hass)
    stack = Stack(simulator, hass, sides=sides)
    await asyncio.to_thread(hass.start)
    stack.token = await asyncio.to_thread(hass.onboard, OWNER)
    await asyncio.to_thread(hass.wait_until_started, stack.token)
    for side in sides.values():
        await asyncio.to_thread(_add_entry, stack, side)
        side.traffic = TelnyxTraffic(
            simulator, side.application_id, side.numbers, seed + len(side.numbers)
        )
    await asyncio.to_thread(_wait_until_loaded, stack)
    return stack


def _write_config(hass: HassProcess) -> None:
    config = hass.config_dir
    custom_components = config / "custom_components"
    custom_components.mkdir(parents=True)
    (custom_components / "switchboard").symlink_to(
        INTEGRATION, target_is_directory=True
    )
    shutil.copytree(
        FLOOR_SOURCE,
        custom_components / FLOOR_DOMAIN,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (config / "configuration.yaml").write_text(CONFIGURATION.format(url=hass.url))
    (config / "automations.yaml").write_text(AUTOMATIONS)
    # Not an http: block, which Home Assistant reverts after five minutes.
    write_http_settings(
        config, port=hass.port, certificate=None, key=None, host=LOOPBACK
    )


def _add_entry(stack: Stack, side: Side) -> None:
    hass, token, simulator = stack.hass, stack.token, stack.simulator
    flows = "/api/config/config_entries/flow"

    def step(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = hass.expect("POST", path, body, token=token)
        return answer

    if side.kind == "switchboard":
        menu = step(flows, {"handler": DOMAIN, "show_advanced_options": False})
        flow = f"{flows}/{menu['flow_id']}"
        step(flow, {"next_step_id": "telnyx"})
        step(
            flow,
            {
                CONF_API_KEY: simulator.api_key,
                CONF_PUBLIC_KEY: simulator.public_key_b64,
                CONF_URL: simulator.base_url,
            },
        )
        created = step(
            flow,
            {CONF_APPLICATION_ID: side.application_id, CONF_REGISTER_WEBHOOK: True},
        )
        url = simulator.applications[side.application_id]["webhook_event_url"]
        side.webhook_id = url.rsplit("/", 1)[1]
    else:
        side.webhook_id = uuid.uuid4().hex
        form = step(flows, {"handler": FLOOR_DOMAIN, "show_advanced_options": False})
        created = step(
            f"{flows}/{form['flow_id']}",
            {
                CONF_API_KEY: simulator.api_key,
                CONF_URL: simulator.base_url,
                CONF_PUBLIC_KEY: simulator.public_key_b64,
                CONF_NUMBERS: ",".join(side.numbers),
                CONF_WEBHOOK_ID: side.webhook_id,
                CONF_WRITES: AS_SWITCHBOARD if side.kind == "same" else "1",
            },
        )
        simulator.applications[side.application_id]["webhook_event_url"] = (
            f"{hass.url}/api/webhook/{side.webhook_id}"
        )
    if created.get("type") != "create_entry":
        raise hass.error(f"adding {side.kind} {side.size} failed: {created}")
    side.entry_id = created["result"]["entry_id"]


def _wait_until_loaded(stack: Stack) -> None:
    wanted = {side.entry_id for side in stack.sides.values()}
    deadline = time.monotonic() + LOAD_TIMEOUT
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        entries = stack.hass.expect(
            "GET", "/api/config/config_entries/entry", token=stack.token
        )
        states = {entry["entry_id"]: entry["state"] for entry in entries}
        if all(states.get(entry_id) == "loaded" for entry_id in wanted):
            floors = [e for e in entries if e["domain"] == FLOOR_DOMAIN]
            if len(floors) != len(SIZES) + len(SAME_WRITES_SIZES):
                raise stack.hass.error(f"the floor did not load: {floors}")
            return
        time.sleep(0.5)
    raise stack.hass.error(f"not every entry loaded: {states}")


async def async_stop(stack: Stack) -> None:
    """Stop `hass`, then the simulator."""
    try:
        await asyncio.to_thread(stack.hass.stop)
    finally:
        await stack.simulator.close()

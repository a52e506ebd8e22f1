"""The demo's "Calls" dashboard: the README's call card, once per device.

The card is read from the README, so the dashboard a newcomer opens is the
one the README tells a user to paste, with the entity IDs of each device put
in. A device without a Decline button (Genesys) gets the card without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import re
import ssl
from typing import Any, Final

import aiohttp
from homeassistant.util.yaml import parse_yaml

from .state import REPOSITORY

DASHBOARD: Final = "switchboard-calls"
TITLE: Final = "Calls"
# What the README's card names: its line, and its entities by their key.
README_LINE: Final = "Front desk line"
README_DEVICE: Final = "15550100001"
README_ENTITIES: Final = {
    "call": f"sensor.{README_DEVICE}_call",
    "caller": f"sensor.{README_DEVICE}_caller",
    "missed_calls": f"sensor.{README_DEVICE}_missed_calls",
    "last_call": f"sensor.{README_DEVICE}_last_call",
    "answer": f"button.{README_DEVICE}_answer",
    "decline": f"button.{README_DEVICE}_decline",
    "hang_up": f"button.{README_DEVICE}_hang_up",
}
DOMAIN: Final = "switchboard"


def readme_call_card() -> dict[str, Any]:
    """The card configuration that the README's dashboard section shows."""
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("### A call card for a dashboard", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's call card section has no YAML block"
    card = parse_yaml(match.group(1))
    assert isinstance(card, dict), card
    return card


def card_for(
    card: dict[str, Any], line: str, entities: Mapping[str, str]
) -> dict[str, Any]:
    """The README's card for one device: its name, its entity IDs.

    `entities` maps the keys of README_ENTITIES to the device's entity IDs; a
    card naming an entity the device lacks is left out.
    """
    readme_to_device = {
        readme: entities.get(key) for key, readme in README_ENTITIES.items()
    }

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        if value == README_LINE:
            return line
        if isinstance(value, str) and value in readme_to_device:
            return readme_to_device[value] or _MISSING
        return value

    pruned: dict[str, Any] = _prune(swap(card))
    return pruned


class _Missing:
    """Marks a card that names an entity the device lacks."""


_MISSING: Final = _Missing()


def _has_missing(value: Any) -> bool:
    if value is _MISSING:
        return True
    if isinstance(value, dict):
        return any(_has_missing(item) for item in value.values())
    return False


def _prune(value: Any) -> Any:
    """Drop each card (a dict in a list) that names a missing entity."""
    if isinstance(value, dict):
        return {key: _prune(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_prune(item) for item in value if not _has_missing(item)]
    return value


def device_cards(
    devices: list[dict[str, Any]], registry: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One card per Switchboard device, from the device and entity registries."""
    card = readme_call_card()
    by_device: dict[str, dict[str, str]] = {}
    for entity in registry:
        if entity.get("platform") != DOMAIN or not entity.get("device_id"):
            continue
        unique_id: str = entity.get("unique_id") or ""
        for key in README_ENTITIES:
            if unique_id.endswith(f"_{key}") and not (
                key == "call" and unique_id.endswith(("_missed_calls", "_last_call"))
            ):
                by_device.setdefault(entity["device_id"], {})[key] = entity["entity_id"]
    cards = []
    for device in sorted(devices, key=lambda device: device["name"] or ""):
        entities = by_device.get(device["id"])
        if entities and "call" in entities:
            cards.append(
                card_for(card, device["name_by_user"] or device["name"], entities)
            )
    return cards


async def _async_create(url: str, token: str, context: ssl.SSLContext | None) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url}/api/websocket", ssl=context or False) as socket,
    ):
        ids = iter(range(1, 100))

        async def ask(message: dict[str, Any]) -> Any:
            await socket.send_json({"id": next(ids), **message})
            while True:
                answer = await socket.receive_json()
                if answer.get("type") == "result":
                    if not answer["success"]:
                        raise RuntimeError(f"{message['type']}: {answer['error']}")
                    return answer["result"]

        assert (await socket.receive_json())["type"] == "auth_required"
        await socket.send_json({"type": "auth", "access_token": token})
        assert (await socket.receive_json())["type"] == "auth_ok"
        devices = await ask({"type": "config/device_registry/list"})
        registry = await ask({"type": "config/entity_registry/list"})
        cards = device_cards(devices, registry)
        dashboards = await ask({"type": "lovelace/dashboards/list"})
        if not any(board["url_path"] == DASHBOARD for board in dashboards):
            await ask(
                {
                    "type": "lovelace/dashboards/create",
                    "url_path": DASHBOARD,
                    "title": TITLE,
                    "icon": "mdi:phone",
                    "show_in_sidebar": True,
                    "require_admin": False,
                    "mode": "storage",
                }
            )
        await ask(
            {
                "type": "lovelace/config/save",
                "url_path": DASHBOARD,
                "config": {
                    "title": TITLE,
                    "views": [
                        {
                            "title": TITLE,
                            "path": "calls",
                            "type": "masonry",
                            "cards": cards,
                        }
                    ],
                },
            }
        )
        return len(cards)


def create_dashboard(url: str, token: str, context: ssl.SSLContext | None) -> int:
    """Create (or refresh) the Calls dashboard; return how many cards it has."""
    return asyncio.run(_async_create(url, token, context))

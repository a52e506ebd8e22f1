"""Graph notifications to post in tests: call data, items, envelopes, tokens."""

from __future__ import annotations

from collections.abc import Mapping
import time
from typing import Any, Final

from custom_components.switchboard.providers.graph import GraphClient
from custom_components.switchboard.providers.model import CallEvent
from tests.providers.hostile import complete
from tests.simulators.graph import GraphSimulator

CALL: Final = "/communications/calls/c1"
RESULT: Final = {
    "@odata.type": "#microsoft.graph.resultInfo",
    "code": 200,
    "subcode": 4097,
}


def call_data(state: Any, call: str = CALL, **extra: Any) -> dict[str, Any]:
    """A call's resourceData in `state`, as Graph sends it for an incoming call."""
    return {
        "@odata.type": "#microsoft.graph.call",
        "@odata.id": call,
        "@odata.etag": 'W/"2"',
        "state": state,
        "direction": "incoming",
        "source": {"identity": {"phone": {"id": "+15557654321", "displayName": "Ada"}}},
        "targets": [
            {"identity": {"applicationInstance": {"displayName": "Desk", "id": "a1"}}}
        ],
        **extra,
    }


def item(change: str, data: Any, resource: str | None = None) -> dict[str, Any]:
    """A notification about `resource` (by default the call `data` names)."""
    if resource is None:
        resource = data.get("@odata.id", CALL) if isinstance(data, dict) else CALL
    return {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change,
        "resourceUrl": resource,
        "resourceData": data,
    }


def envelope(*items: Any) -> dict[str, Any]:
    """The commsNotifications envelope of `items`."""
    return {"@odata.type": "#microsoft.graph.commsNotifications", "value": list(items)}


def bearer(graph: GraphSimulator, **token: Any) -> dict[str, str]:
    """The Authorization header of a notification token (see notification_token)."""
    return {"Authorization": f"Bearer {graph.notification_token(**token)}"}


def parse(
    client: GraphClient, headers: Mapping[str, str], body: bytes
) -> list[CallEvent]:
    """Verify and read a delivery now; the keys must be fetched already."""
    return complete(client.async_parse_webhook(headers, body, time.time()))


class FrozenClock:
    """A client clock that stands still: keys fetched once stay fresh."""

    def __init__(self) -> None:
        """Stand at the wall clock's time now."""
        self.now = time.time()

    def __call__(self) -> float:
        """Return the time it stands at."""
        return self.now

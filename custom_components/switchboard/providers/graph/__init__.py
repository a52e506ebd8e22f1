"""Microsoft Graph calling-bot client: client-credentials REST and JWT notifications.

A Teams calling bot is one device. Microsoft posts call notifications (the
`commsNotifications` envelope) to the bot's calling webhook and to the
`callbackUri` named when answering; every POST carries a Bearer JWT signed with
the keys of Microsoft's OpenID configuration, which is checked before anything
is read.

`client` is the Provider, `auth` both tokens (ours and Microsoft's),
`notifications` the reading of notifications, `options` the action options,
`errors` Graph's error replies, `const` the clouds.
"""

from __future__ import annotations

from .client import GraphClient
from .const import (
    CLOUDS,
    OPENID_CONFIGURATION_PATH,
    OPENID_CONFIGURATION_URL,
    GraphCloud,
)
from .options import validate_options

__all__ = [
    "CLOUDS",
    "OPENID_CONFIGURATION_PATH",
    "OPENID_CONFIGURATION_URL",
    "GraphClient",
    "GraphCloud",
    "validate_options",
]

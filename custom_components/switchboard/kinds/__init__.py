"""The registry of providers: one kind per provider Switchboard supports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..const import CONF_PROVIDER
from .base import (
    FlowAbortError,
    FlowError,
    FlowHost,
    NewEntry,
    OAuthProviderKind,
    ProviderKind,
    form_errors,
)
from .genesys import GenesysKind
from .graph import GraphKind
from .telnyx import TelnyxKind
from .webex import WebexKind

__all__ = [
    "KINDS",
    "FlowAbortError",
    "FlowError",
    "FlowHost",
    "NewEntry",
    "OAuthProviderKind",
    "ProviderKind",
    "UnknownProviderError",
    "form_errors",
    "kind_of",
]

# In the order the config flow's menu offers them.
KINDS: Mapping[str, ProviderKind] = {
    kind.key: kind for kind in (TelnyxKind(), WebexKind(), GraphKind(), GenesysKind())
}
# Entries made before the provider was stored knew only Telnyx.
_DEFAULT_KEY = TelnyxKind.key


class UnknownProviderError(KeyError):
    """An entry names a provider this version does not know."""


def kind_of(entry_data: Mapping[str, Any]) -> ProviderKind:
    """Return the kind of an entry; raises UnknownProviderError."""
    key = entry_data.get(CONF_PROVIDER, _DEFAULT_KEY)
    try:
        return KINDS[key]
    except KeyError:
        raise UnknownProviderError(key) from None

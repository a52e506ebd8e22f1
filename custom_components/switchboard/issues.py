"""Repair issues of one entry: raised and cleared by key, named per entry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


@callback
def async_raise_entry_issue(
    hass: HomeAssistant, entry: ConfigEntry[Any], key: str, **placeholders: str
) -> None:
    """Raise the entry's repair issue `key`; the entry's title is a placeholder."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{key}_{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders={"title": entry.title, **placeholders},
    )


@callback
def async_clear_entry_issues(
    hass: HomeAssistant, entry: ConfigEntry[Any], keys: Iterable[str]
) -> None:
    """Clear the entry's repair issues named by `keys` (those raised, that is)."""
    for key in keys:
        ir.async_delete_issue(hass, DOMAIN, f"{key}_{entry.entry_id}")

"""Home Assistant's HTTP settings for the demo, written where it reads them.

Home Assistant 2026.10 keeps its HTTP settings in ``.storage/http``, not in
YAML: an ``http:`` block is imported once, as a *trial* that reverts to the
stored settings (and restarts) unless confirmed within five minutes, and is
ignored afterwards. The demo's listen address, port and certificate change
from run to run (a taken port, ``--public``), so every start writes them as
the confirmed ("stable") settings, validated by Home Assistant's own schema.
`scripts/bench`, which runs longer than five minutes, writes its plain-http
settings the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.components.http.config import (
    HTTP_STORAGE_SCHEMA,
    KEY_PENDING,
    KEY_STABLE,
    KEY_YAML_MIGRATION_DONE,
    STORAGE_KEY,
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
)
from homeassistant.util import dt as dt_util


def write_http_settings(
    config_dir: Path,
    *,
    port: int,
    certificate: Path | None,
    key: Path | None,
    host: str | None,
) -> None:
    """Serve on `port` (TLS with a certificate), on `host` only (None: every one)."""
    settings: dict[str, Any] = {"server_port": port}
    if certificate is not None and key is not None:
        settings |= {"ssl_certificate": str(certificate), "ssl_key": str(key)}
    if host is not None:
        settings["server_host"] = [host]
    stable = {
        **HTTP_STORAGE_SCHEMA(settings),
        "created_at": dt_util.utcnow().isoformat(),
        "error": None,
        "error_message": None,
    }
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    (storage / STORAGE_KEY).write_text(
        json.dumps(
            {
                "version": STORAGE_VERSION,
                "minor_version": STORAGE_MINOR_VERSION,
                "key": STORAGE_KEY,
                "data": {
                    KEY_STABLE: stable,
                    KEY_PENDING: None,
                    KEY_YAML_MIGRATION_DONE: True,
                },
            },
            indent=2,
        )
    )

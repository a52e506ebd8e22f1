"""Decoding JSON from the outside, whatever it holds.

`json.loads` raises more than ValueError: an array nested a hundred thousand
deep raises RecursionError. Both mean "not JSON we can read" here.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import InvalidPayloadError


def load_json(text: str | bytes) -> Any:
    """Decode JSON; raise ValueError for anything that is not readable JSON.

    Non-finite numbers (1e400, NaN) are decoded as floats: the field readers
    of `values` refuse them, so one odd field spoils only itself.
    """
    try:
        return json.loads(text)
    except RecursionError as err:
        raise ValueError("JSON nested too deeply") from err


def load_payload(body: bytes, what: str) -> Any:
    """Decode a verified delivery; InvalidPayloadError "<what> is not JSON" if not."""
    try:
        return load_json(body)
    except ValueError as err:
        raise InvalidPayloadError(f"{what} is not JSON") from err

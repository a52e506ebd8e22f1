"""The retry policy's old home; it lives in `providers.kernel.retry` now."""

from __future__ import annotations

from .kernel.retry import async_retry

__all__ = ["async_retry"]

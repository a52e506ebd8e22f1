"""Reading a body from the outside without letting it grow past a cap."""

from __future__ import annotations

import aiohttp


async def read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes | None:
    """Read `content` to its end; None as soon as it holds more than `limit` bytes.

    A read returns what is at hand, so this reads until the end or the limit:
    a body is never held whole when it is too large.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := await content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(chunks)

"""Reading a body with a cap: the kernel's read_at_most."""

from __future__ import annotations

import asyncio
from unittest.mock import Mock

import aiohttp

from custom_components.switchboard.providers.kernel.limits import read_at_most


def reader(*chunks: bytes) -> aiohttp.StreamReader:
    """A stream that hands out `chunks` one by one, then ends."""
    stream = aiohttp.StreamReader(
        Mock(_reading_paused=False), 2**16, loop=asyncio.get_running_loop()
    )
    for chunk in chunks:
        stream.feed_data(chunk)
    stream.feed_eof()
    return stream


async def test_a_body_within_the_cap_is_read_whole() -> None:
    assert await read_at_most(reader(b"ab", b"cd", b"e"), 5) == b"abcde"
    assert await read_at_most(reader(), 5) == b""


async def test_a_body_over_the_cap_is_not_read_whole() -> None:
    stream = reader(b"abc", b"def", b"ghi")
    assert await read_at_most(stream, 5) is None
    # It stopped at the first byte over the cap.
    assert await stream.read() == b"ghi"

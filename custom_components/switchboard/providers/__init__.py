"""Provider clients: asyncio and aiohttp only, never Home Assistant."""

"""What every provider client needs alike: requests, waits, memory, values, options.

Asyncio and aiohttp only, never Home Assistant. Import from the modules:
`http` (the JSON request), `retry` (the retry policy), `retry_after`,
`memory` (bounded id memory), `values` (numbers, text, timestamps),
`payload` (JSON from outside, whatever it holds), `raw` (what Call.raw
keeps) and `options` (declarative option schemas).
"""

"""Upstream API clients: pure asyncio + aiohttp, no Home Assistant imports."""

"""The journey engine: domain model, state machines, use cases and ports.

Imports only the standard library and pydantic; everything outside is reached through the ports in
``journey.ports`` and injected by the composition root (``bot.main``).
"""

"""The pure domain of the show: no I/O, no asyncio, no UI, no network clients.

Every rule of the show (transitions, scoring, overrides, tie-breaks, disputes)
lives here once, so the console, the hub and the headless runner all agree.
"""

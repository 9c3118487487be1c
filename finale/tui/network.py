"""One event loop, in its own thread, for every call to the finalists' endpoints and the judge.

The console's screen runs on Textual's loop; the providers (streaming HTTP,
AWS event streams, their parsing) and the Director's store reads around them
run here, so a slow or chatty endpoint can never delay a keypress. The loop
lives as long as the console, so async clients bound to it stay valid.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class NetworkLoop:
    """Runs coroutines on a private loop; `run` awaits them from any other loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="finale-network", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the network loop; cancelling the caller cancels it there too."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is still running, stop the loop and wait for the thread."""
        if not self._thread.is_alive():
            return

        def cancel_all() -> None:
            for task in asyncio.all_tasks(self.loop):
                task.cancel()
            self.loop.call_soon(self.loop.stop)

        self.loop.call_soon_threadsafe(cancel_all)
        self._thread.join(timeout)
        if not self.loop.is_running():
            self.loop.close()

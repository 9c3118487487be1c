"""Notice that the console's terminal has gone (an SSH drop, a killed tmux) when no SIGHUP says so.

A console started under `make` (or any parent that swallows the hangup) keeps running on a dead
terminal, its input thread spinning. Asking the terminal for its attributes fails once it has hung
up, so a cheap check once a second is enough to close the console the way a crash would.
"""

from __future__ import annotations

import sys
import termios


def terminal_gone() -> bool:
    """True when standard input was a terminal and that terminal has hung up."""
    stream = sys.__stdin__
    if stream is None:
        return False
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return True
    try:
        termios.tcgetattr(fd)
    except termios.error:
        return True
    except (OSError, ValueError):
        return True
    return False

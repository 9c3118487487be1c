"""Who sits at the console: named with `--as NAME`, else asked at start, else the login name.

Every intent the console sends goes on the record under this name (the Director's
actor); tests and `finale demo` never wait for an answer.
"""

from __future__ import annotations

import getpass

FALLBACK = "mc"


def default_operator() -> str:
    """The login name of whoever runs the console (the operating system's user), or "mc" when there is none."""
    try:
        name = getpass.getuser().strip()
    except (KeyError, OSError):  # no user database entry (a bare container) and no LOGNAME/USER
        return FALLBACK
    return name or FALLBACK

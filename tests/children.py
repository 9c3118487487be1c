"""Stopping the child processes the tests start (hubs, redis-server): a crash, or an orderly stop."""

from __future__ import annotations

import signal
import subprocess


def kill(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL (kill -9): the child dies without closing or flushing anything, like a crash."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def stop(proc: subprocess.Popen[bytes] | None, grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the child has not left within `grace_s`."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            kill(proc)


def kill_left_behind(marker: str) -> None:
    """SIGKILL every process whose command line holds `marker` (a test's temporary folder).

    A console in tmux starts its hub in a session of its own, so the hub outlives a `tmux kill-server`
    by design (phones keep voting while the MC's terminal is gone); a test that ends early stops it here.
    """
    subprocess.run(["pkill", "-KILL", "-f", marker], capture_output=True, check=False)

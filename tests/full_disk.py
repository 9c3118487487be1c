"""A full disk for the failure tests: a small tmpfs mounted by the test (root only), filled by one file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FULL = "votes cannot be stored: database or disk is full"  # what /healthz and the log say


def mount_small_disk(where: Path, size: str = "8m") -> Path:
    """A tmpfs of `size` at `where` (skips the test, saying why, when it cannot be mounted)."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a small tmpfs, and mounting one needs root (run the tests as root)")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {where}: {done.stderr.strip()}")
    return where


def fill_disk(folder: Path) -> Path:
    """A file that takes every free byte of the file system holding `folder`; delete it to free the space."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs for the event database, unmounted afterwards."""
    disk = mount_small_disk(tmp_path / "disk")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)

"""Who sits at the console (issue 12): `--as NAME`, else asked at start in a terminal, else the login name."""

from __future__ import annotations

import sys

import click
import pytest
from click.testing import CliRunner

from finale.cli import _operator
from finale.tui.operator import default_operator


def test_as_name_wins_and_is_one_line_of_text() -> None:
    assert _operator("Dana Reyes", ask=True) == "Dana Reyes"
    assert _operator("Dana\x1b[31m Reyes", ask=True) == "Dana Reyes"  # escapes never reach the record
    with pytest.raises(click.UsageError, match="--as"):
        _operator("   ", ask=False)


def test_without_a_terminal_it_is_the_login_name_and_nothing_waits() -> None:
    with CliRunner().isolation(input=""):  # stdin is not a terminal: tests, pipes, `finale demo`
        assert _operator(None, ask=True) == default_operator()
    assert _operator(None, ask=False) == default_operator()
    assert default_operator()  # never empty


def test_a_run_in_a_terminal_asks_who_is_at_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    with CliRunner().isolation(input="Sam Okafor\n") as streams:
        monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
        assert _operator(None, ask=True) == "Sam Okafor"
        assert b"Who is at the console?" in streams[0].getvalue()
    with CliRunner().isolation(input="\n"):  # Enter takes the login name
        monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
        assert _operator(None, ask=True) == default_operator()

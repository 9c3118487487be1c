"""The command palette: every MC action by name, so nothing on the show depends on remembering a key.

The footer shows the keys of the screen in front; the palette (ctrl+p) lists the
show-wide actions below, then the keys of the screen it was opened on.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

# (action, palette title, help) for every MC intent: the footer shows their keys, the palette lists them all.
PALETTE: tuple[tuple[str, str, str], ...] = (
    ("show_screen('show')", "Go to: show", "Question deck and standings (key 1)"),
    ("show_screen('round')", "Go to: round", "Live answers (key 2)"),
    ("show_screen('judging')", "Go to: judging", "LLM judge scores, failures, disputes (key 3)"),
    ("show_screen('panel')", "Go to: panel", "Panel submissions; type scores for a panelist (key 4)"),
    ("show_screen('voting')", "Go to: voting", "QR, countdown, live bars (key 5)"),
    ("show_screen('standings')", "Go to: standings", "Per round and overall; freeze and reveal (key 6)"),
    ("show_screen('audit')", "Go to: audit log", "Every event, filterable; revert overrides (key 7)"),
    ("show_screen('integrity')", "Go to: vote integrity",
     "New phones per minute, votes per origin, alarms; discount votes (key 8)"),
    ("show_screen('questions')", "Go to: questions from the floor",
     "The moderation queue: approve, reject, star, ask as the next round (key 9)"),
    ("toggle_questions", "Open / close questions from the floor",
     "Between rounds: phones submit and upvote; asking the next round closes them (q on show or questions)"),
    ("next_question", "Ask the next deck question", "Creates the round and asks every finalist (n on the show screen)"),
    ("retry_failed", "Re-ask every failed finalist", "Errors, timeouts, answers cut off by a restart (r on round)"),
    ("judge", "Run the LLM judge", "Scores every answer of the current round (j on the round or judging screen)"),
    ("open_poll", "Open the audience poll", "Starts the countdown on the server's clock (o on the voting screen)"),
    ("extend_poll", "Extend the poll by 15 s", "Pushes the deadline back (x on the voting screen)"),
    ("close_poll", "Close the poll now", "Ends voting for this round (c on the voting screen)"),
    ("reveal_labels", "Reveal who was who", "Which finalist gave which answer, after the close (l on voting)"),
    ("finalize", "Make the round final", "Refused while anything blocks it; the show screen lists what (f)"),
    ("override", "Override a component", "Replace or waive one score, with a reason (o on judging or standings)"),
    ("waive", "Waive the audience or a panelist for this round",
     "Every finalist at once, one reason, on the record (w on standings or panel)"),
    ("type_panel_scores", "Type a panelist's scores", "One grid: every answer and criterion (i on the panel screen)"),
    ("toggle_freeze", "Freeze / unfreeze the stage", "The stage page stops updating (z on standings)"),
    ("reveal_next", "Reveal the next place", "The stage reveals from last place to the winner (r on standings)"),
    ("dismiss_reveal", "Dismiss the reveal", "Takes the standings reveal off the stage and phones (the next ask too)"),
    ("declare_last_round", "Declare this the last round",
     "The reveal after it says \"the winner\"; mid-show it is the standings after round N (again: undo)"),
    ("spotlight_next", "Spotlight the next answer", "One answer fills the stage: A, B, ... then off (long answers)"),
    ("toggle_pause", "Pause / resume the show", "Freezes the countdown and the stage (p)"),
    ("void_round", "Void the current round", "Needs a reason; the round no longer counts (ctrl+x)"),
    ("toggle_names", "Show names / labels", "Real names are for the MC only (m)"),
    ("toggle_reference", "Show / hide the reference answer", "The reference model is never ranked (f on round)"),
)


def mc_commands(app: App[Any], screen: Screen[Any]) -> Iterable[SystemCommand]:
    """The PALETTE's actions, then the shown keys of `screen` that the PALETTE does not already list."""
    listed = set()
    for action, title, help_text in PALETTE:
        listed.add(action.removeprefix("app."))
        yield SystemCommand(title, help_text, partial(app.run_action, action))
    for binding in screen.BINDINGS:
        if isinstance(binding, Binding) and binding.show and binding.action.removeprefix("app.") not in listed:
            yield SystemCommand(f"{binding.description} ({binding.key})", f"on the {app.current_mode} screen",
                                partial(screen.run_action, binding.action))

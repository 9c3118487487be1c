"""The "next:" line above the footer: the action first, with its keys from the screen in front, then why.

Only words and keys live here; what blocks a round comes from finale.core
(`ShowSnapshot.blockers`, `disputes`), never from rules re-written here, and the
key that fixes each blocker from finale.tui.fixes. The line may take two rows;
it wraps, it is never cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from finale.core.blockers import BlockerKind
from finale.core.disputes import DisputeKind
from finale.core.model import AnswerStatus, JudgmentStatus, Phase
from finale.director import REFERENCE_ID
from finale.tui.fixes import Action, fixes
from finale.tui.state import ShowSnapshot

WARN = "bold black on yellow"
FLAG = "bold white on magenta"
KEY = "bold reverse"


@dataclass(frozen=True)
class Guide:
    """What the line says: the action to take now, what follows it in order, alternatives, and why."""

    lead: Action | None = None  # None while the show is waiting (answers streaming): nothing to press
    then: tuple[Action, ...] = ()  # in order, after the lead
    alternatives: tuple[Action, ...] = ()  # instead of the lead
    warn: str = ""  # a warning tag after the action (failed answers, what blocks final)
    note: str = ""  # plain words after it
    fixes: tuple[tuple[str, tuple[Action, ...]], ...] = ()  # (flag, its keys): failed judgments and disputes


def _press(text: Text, action: Action, current: str, verb: str = "press ", to: str = " to ") -> str:
    """Append the action's keys from `current` (a screen number first when it is elsewhere) and its words.

    Returns the screen the MC is on after pressing them, for the actions that follow.
    """
    text.append(verb)
    for i, key in enumerate(action.keys(current)):
        text.append(" " if i else "")
        text.append(f" {key} ", style=KEY)
    text.append(f"{to}{action.words}" if action.words else "")
    return current if not action.screens or current in action.screens else action.screens[0]


def _whole(tag: str) -> str:
    """A warning tag that never wraps inside itself (no-break spaces)."""
    return f" {tag} ".replace(" ", "\u00a0")


def render(guide: Guide, current: str) -> Text:
    """The guide as one line of text that wraps (the line has room for two rows)."""
    text = Text(overflow="fold")
    text.append("next: ", style="bold")
    after = current
    if guide.lead is not None:
        after = _press(text, guide.lead, current)
    for action in guide.then:
        after = _press(text, action, after, ", then ")
    for action in guide.alternatives:
        _press(text, action, current, " · or ")
    if guide.warn:
        text.append("  ")
        text.append(_whole(guide.warn), style=WARN)
    if guide.note:
        text.append(("  " if guide.lead or guide.warn else "") + guide.note)
    for flag, actions in guide.fixes:
        text.append("  ")
        text.append(_whole(flag), style=FLAG if flag.startswith("⚑") else WARN)
        there = current
        for i, action in enumerate(actions):
            there = _press(text, action, there, " " if i == 0 else " or ", " ")
    return text


def next_step(snapshot: ShowSnapshot | None, current: str = "", busy: str = "") -> Text:
    """What to do now, the action first; `current` is the screen in front (its keys need no screen number).

    `busy` is what the console is doing ("asking", "judging"): the line waits for it.
    """
    return render(plan(snapshot, busy), current)


def next_keys(snapshot: ShowSnapshot | None, current: str, busy: str = "") -> tuple[str, ...]:
    """The keys of the line's lead action from `current` (empty while the show waits): tests follow these."""
    lead = plan(snapshot, busy).lead
    return lead.keys(current) if lead is not None else ()


def _between_rounds(snapshot: ShowSnapshot) -> Guide:
    """After a final (or void) round: the next question; at the end of the deck, freeze then reveal."""
    rec = snapshot.current
    sw = snapshot.switches
    done = "" if rec is None else f"(round {rec.round.id} is {rec.round.phase})"
    type_one = Action(("show",), "a", "type an unseen question")
    dismiss = Action(("standings",), "d", "take the reveal off the stage")
    if snapshot.next_question() is not None:
        ask = Action(("show", "standings"), "n", "ask the next question" + (" (it ends the reveal)"
                                                                          if sw.revealing else ""))
        if sw.revealing:
            return Guide(ask, alternatives=(Action(("standings",), "r", "reveal the next place"), dismiss), note=done)
        standings = Action(("standings",), "r", "reveal the standings so far")
        floor = Action(("show", "questions"), "q", "take questions from the floor")
        return Guide(ask, alternatives=(type_one, standings, floor) if rec is not None else (type_one, floor),
                     note=done)
    if not sw.frozen:
        return Guide(Action(("standings",), "z", "freeze the stage"),
                     (Action(("standings",), "r", "reveal the places from last to the winner"),),
                     note="the deck is done " + done)
    if not (sw.reveal_final and sw.reveal_step >= len(snapshot.standings)):
        return Guide(Action(("standings",), "r", "reveal the next place (last to the winner)"),
                     alternatives=(type_one,), note="the deck is done " + done)
    return Guide(dismiss, alternatives=(type_one,), note="the deck is done and the winner revealed")


def _flags(snapshot: ShowSnapshot, judgments: bool = True) -> tuple[tuple[str, tuple[Action, ...]], ...]:
    """Failed judgments (unless `judgments` is False: a blocker's fix names them) and open disputes, with keys."""
    rec = snapshot.current
    assert rec is not None
    labels = rec.round.labels
    out: list[tuple[str, tuple[Action, ...]]] = []
    failed = sorted(labels.get(fid, "?") for fid, j in rec.judgments.items()
                    if j.status is JudgmentStatus.FAILED and fid in snapshot.scored
                    and not snapshot.scored[fid].llm.present)
    if failed and judgments:
        out.append((f"judgment failed: {', '.join(failed)}",
                    (Action(("judging",), "e", "re-judge"), Action(("judging",), "h", "by hand"))))
    for d in sorted((d for d in snapshot.disputes if not d.resolved), key=lambda d: labels.get(d.finalist_id, "?")):
        keys = [Action(("judging",), "o", "override")]
        if d.kind is DisputeKind.GAP:
            keys.insert(0, Action(("judging",), "k", "keep the judge's"))
        out.append((f"⚑ {labels.get(d.finalist_id, '?')} {d.kind}", tuple(keys)))
    return tuple(out)


def plan(snapshot: ShowSnapshot | None, busy: str = "") -> Guide:
    """The guide for the show as the snapshot holds it, while the console is `busy` asking or judging (or not)."""
    if snapshot is None:
        return Guide(note="loading the show…")
    rec = snapshot.current
    if rec is None or not snapshot.round_open:
        return _between_rounds(snapshot)
    rnd = rec.round
    if rnd.phase in (Phase.DRAFT, Phase.ASKING):
        return Guide(then=(Action(("round", "judging"), "j", "judge them"),),
                     note="answers are streaming on the round screen (2); wait for them")
    failed_answers = sorted(rnd.labels.get(fid, "?") for fid, a in rec.answers.items()
                            if fid != REFERENCE_ID and a.status in (AnswerStatus.ERROR, AnswerStatus.TIMEOUT))
    if rnd.phase is Phase.ANSWERED and failed_answers:
        return Guide(Action(("round",), "r", "re-ask them"),
                     alternatives=(Action(("round", "judging"), "j", "judge without them"),),
                     warn=f"failed: {', '.join(failed_answers)}")
    flags = _flags(snapshot)
    if rnd.phase is Phase.ANSWERED:
        return Guide(Action(("round", "judging"), "j", "run the LLM judge"), fixes=flags)
    if rnd.phase is Phase.JUDGING:
        judged = len(rec.judgments)
        wanted = len(snapshot.event.finalist_ids)
        open_poll = Action(("voting",), "o", "open the poll")
        if busy == "judging":
            return Guide(then=(open_poll,), note=f"the LLM judge is scoring ({judged}/{wanted}); wait for it",
                         fixes=flags)
        if judged < wanted:  # a judge cut off (a console restart): judge the rest first
            return Guide(Action(("judging", "round"), "j", f"run the LLM judge again ({judged}/{wanted} judged)"),
                         alternatives=(open_poll,), fixes=flags)
        return Guide(open_poll, alternatives=(Action(("panel",), "i", "type a panelist's scores"),), fixes=flags)
    if rnd.phase is Phase.VOTING:
        return Guide(Action(("voting",), "c", "close the poll now"),
                     alternatives=(Action(("voting",), "x", "give 15 s more"),),
                     note="(or let the countdown end)", fixes=flags)
    found = [f for f in fixes(snapshot) if f.blockers[0].kind is not BlockerKind.PHASE]
    if found:
        first = found[0]
        more = f" (+{len(found) - 1} more on 1)" if len(found) > 1 else ""
        blocking = sum(1 for b in snapshot.blockers if b.kind is not BlockerKind.PHASE)
        return Guide(first.action, alternatives=(first.alternative,) if first.alternative else (),
                     warn=f"{blocking} blocking final", note=first.about(snapshot) + more,
                     fixes=_flags(snapshot, judgments=False))
    final = Action(("standings",), "f", f"make round {rnd.id} final")
    after: tuple[Action, ...] = ()
    if snapshot.next_question() is None:  # the last round: the reveal follows
        after = (Action(("standings",), "z", "freeze the stage"),
                 Action(("standings",), "r", "reveal the places"))
    if not rnd.revealed:
        return Guide(Action(("standings", "voting"), "l", "reveal who was who"), (final, *after), fixes=flags)
    return Guide(final, after, fixes=flags)

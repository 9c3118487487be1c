"""What each role sees, built from the store and the core's rules.

`read_snapshot` is the only function here that touches the store (the hub runs
it in its reader thread); the `*_view` functions are pure and turn a snapshot
into the JSON-ready `state` message of one role. Nothing is scored here: totals,
standings and override marks come from finale.core.scoring.

The show's switches are the typed core.switches.ShowSwitches the Director
writes: `paused` (countdowns stand still; a paused poll keeps its time left on
the round, see core.poll), `frozen` (the stage keeps its picture, see
server.py), `reveal_step` (the standings reveal has shown the last k places,
from the bottom up), `winner_revealed` (the top at once), what that reveal is
called (core.switches.reveal_heading: "the winner" only in a final reveal;
asking the next round ends it) and `spotlight` (one answer fills the stage). A
round's own `revealed` flag (Director.reveal_round) reveals its label mapping
and its places (core.ranking, with the declared tie-breaks; ties shown as ties).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finale.core.headtohead import WinRate, win_rates
from finale.core.model import AnswerStatus, Component, Event, PanelScore, Phase, Round
from finale.core.phases import accepts_panel_scores, answers_in, ballot_shown, is_settled
from finale.core.poll import is_paused, remaining, voting_open
from finale.core.questions import Board, Status
from finale.core.ranking import round_places
from finale.core.scoring import FinalistRound, Standing, score_round, standings
from finale.core.switches import ShowSwitches, reveal_heading, reveal_moment
from finale.core.tuning import MAX_SYSTEM_PROMPT_CHARS, MAX_TOKENS_RANGE, TEMPERATURE_RANGE
from finale.store import ChangeSource, SnapshotReader, token_owner


@dataclass(frozen=True)
class Snapshot:
    """Everything the pages show, read from the store in one go."""

    event: Event
    switches: ShowSwitches
    round: Round | None
    answers: dict[str, tuple[str, str]]  # finalist id -> (text, status)
    scored: dict[str, FinalistRound]
    standings: list[Standing]
    panel: list[PanelScore]
    settings_lock: str | None
    settings_history: dict[str, list[dict[str, Any]]]
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> id -> token
    timings: dict[str, dict[str, float | int | None]] = field(default_factory=dict)  # finalist id -> timing
    seal: str | None = None  # SHA-256 of the sealed manifest in force (finale.seal), shown on the idle stage
    win_rates: dict[str, WinRate] = field(default_factory=dict)  # against the reference, revealed rounds only
    questions: Board = field(default_factory=Board)  # questions from the floor: approved ones only (core.questions)

    def names(self) -> dict[str, str]:
        return {f.id: f.name for f in self.event.finalists}

    def token_owner(self, table: str, token: str) -> str | None:
        """Constant-time look-up of a private-link token in this snapshot."""
        return token_owner(self.tokens.get(table, {}), token)


def read_snapshot(store: SnapshotReader) -> Snapshot:
    """One consistent read of the store (in one read transaction)."""
    with store.read():
        event = store.event()
        rnd = store.current_round()
        answers: dict[str, tuple[str, str]] = {}
        timings: dict[str, dict[str, float | int | None]] = {}
        scored: dict[str, FinalistRound] = {}
        panel: list[PanelScore] = []
        if rnd is not None:
            stored = store.answers(rnd.id)
            answers = {fid: (a.text, a.status.value) for fid, a in stored.items()}
            timings = {fid: {"ttft_ms": a.ttft_ms, "total_ms": a.total_ms, "tokens": a.tokens}
                       for fid, a in stored.items()}
            panel = store.panel_scores(rnd.id)
            if answers_in(rnd.phase):
                scored = score_round(event, store.round_record(rnd.id))
        records = store.records()
        return Snapshot(
            event=event, switches=store.switches(), round=rnd, answers=answers, scored=scored,
            standings=standings(event, records), panel=panel, settings_lock=store.settings_lock(),
            settings_history={f.id: store.settings_history(f.id) for f in event.finalists},
            tokens={t: store.tokens(t) for t in ("panelists", "finalists")}, timings=timings,
            seal=store.seal_hash(),
            win_rates=win_rates(records, event.finalist_ids, revealed_only=True) if event.stage_win_rate_label
            else {},
            questions=store.question_board(),
        )


# audit kinds that change no page's state (a submitted question is pending: no page shows it)
QUIET_KINDS = frozenset({"votes.recorded", "credentials.issued", "question.submitted"})


@dataclass
class ChangeFilter:
    """Tells a commit that changed what pages show from one that only added votes.

    Every change the pages show is logged in `events` in its own transaction,
    except streaming answer text (kept in `answers.updated_at`). Vote batches
    (`votes.recorded`) change only the stage's tally, which has its own loop,
    and issued voter credentials (`credentials.issued`) change no page, so a
    burst of votes or of new phones does not re-read the whole show.
    """

    last_seq: int = 0
    answers_at: float | None = None

    def relevant(self, store: ChangeSource) -> bool:
        rows = store.event_kinds_since(self.last_seq)
        if rows:
            self.last_seq = rows[-1][0]
        answers_at = store.latest_answer_update()
        streamed = answers_at != self.answers_at
        self.answers_at = answers_at
        return streamed or any(kind not in QUIET_KINDS for _, kind in rows)


def _answers(snap: Snapshot, timings: bool = False) -> list[dict[str, Any]]:
    """The round's answers under their anonymous labels, sorted A, B, C...

    With `timings` each answer also carries `timing` {ttft_ms, total_ms, tokens}: the panel scores
    efficiency (a comprehensive answer with minimal latency), so judges need to see how fast it came.
    """
    rnd = snap.round
    if rnd is None:
        return []
    out = []
    for fid, label in rnd.labels.items():
        text, status = snap.answers.get(fid, ("", AnswerStatus.PENDING.value))
        row: dict[str, Any] = {"label": label, "text": text, "status": status}
        if timings:
            row["timing"] = snap.timings.get(fid, {"ttft_ms": None, "total_ms": None, "tokens": 0})
        out.append(row)
    return sorted(out, key=lambda a: a["label"])


def _round_head(snap: Snapshot, now: float) -> dict[str, Any]:
    rnd = snap.round
    pause = None
    if is_paused(rnd):
        pause = {"remaining": remaining(rnd, now)}
    elif snap.switches.paused:
        pause = {"remaining": None}
    if rnd is None:
        return {"round": None, "phase": None, "prompt": None, "source": None, "labels": [], "deadline": None,
                "voting_open": False, "paused": pause}
    return {
        "round": rnd.id, "phase": rnd.phase.value, "prompt": rnd.prompt,
        "source": "audience" if rnd.from_audience else None,  # "a question from the audience"
        "labels": sorted(rnd.labels.values()), "deadline": rnd.vote_deadline,
        "voting_open": voting_open(rnd, now), "paused": pause,
    }


def _reveal(snap: Snapshot) -> dict[str, Any] | None:
    """Which finalist was which and the round's result, once the MC revealed the round."""
    rnd = snap.round
    if rnd is None or not rnd.revealed:
        return None
    names = snap.names()
    places = {p.finalist_id: p for p in round_places(snap.scored)}
    rows = []
    for fid, label in sorted(rnd.labels.items(), key=lambda kv: kv[1]):
        fr = snap.scored.get(fid)
        at = places.get(fid)
        rows.append({
            "label": label, "name": names.get(fid, fid), "total": fr.total if fr else None,
            "votes": fr.votes if fr else 0, "overridden": bool(fr and fr.overridden),
            "place": at.rank if at else None, "tied": bool(at and at.tied),
        })
    winners = [names.get(p.finalist_id, p.finalist_id) for p in places.values() if p.rank == 1]
    return {"mapping": rows, "winners": winners, "tied": len(winners) > 1}


def audience_view(snap: Snapshot, now: float) -> dict[str, Any]:
    """What a phone sees: the round, its answers while they matter, the close and the reveal."""
    head = _round_head(snap, now)
    phase = snap.round.phase if snap.round else None
    return {
        "type": "state", "role": "audience", "event": snap.event.name, **head,
        "answers": _answers(snap) if ballot_shown(phase) else [],
        # a phone never shows a winner above a live ballot
        "reveal": _reveal(snap), "final_reveal": None if head["voting_open"] else final_reveal(snap),
        "frozen": snap.switches.frozen, "questions": questions_view(snap),
    }


def questions_view(snap: Snapshot) -> dict[str, Any]:
    """Questions from the floor as every page sees them: approved ones (with upvotes) while they are open.

    A pending or rejected question is never here; `declined`, `approved` and `asked` list ids only (always,
    open or not), so the phone that sent one can say "not selected", "on the board" or "asked".
    """
    board = snap.questions
    items = [{"id": q.id, "text": q.text, "upvotes": q.upvotes, "starred": q.starred,
              "asked": q.status is Status.ASKED} for q in board.approved] if board.open else []
    return {"open": board.open, "items": items, "declined": list(board.declined), "max_chars": board.max_chars,
            "approved": [q.id for q in board.approved if q.status is Status.APPROVED],
            "asked": [q.id for q in board.approved if q.status is Status.ASKED]}


def _leaderboard(snap: Snapshot) -> list[dict[str, Any]]:
    names = snap.names()
    return [{
        "rank": s.rank, "name": names.get(s.finalist_id, s.finalist_id), "total": round(s.total, 2),
        "llm": round(s.points.get(Component.LLM, 0.0), 2), "panel": round(s.points.get(Component.PANEL, 0.0), 2),
        "audience": round(s.points.get(Component.AUDIENCE, 0.0), 2), "votes": s.votes,
        "overridden": s.overridden, "tied": s.tied, "rounds": s.rounds,
    } for s in snap.standings]


def reveal_step(snap: Snapshot) -> int:
    """How many places (from the bottom) the final reveal has shown; 0 when it has not started."""
    return snap.switches.reveal_step


def _masked(position: int) -> dict[str, Any]:
    """A leaderboard row whose place is not revealed yet: nothing about who or how much."""
    return {"rank": position, "name": "?", "total": None, "llm": None, "panel": None, "audience": None,
            "votes": None, "overridden": False, "tied": False, "rounds": None, "hidden": True}


def results_hidden(snap: Snapshot) -> bool:
    """Vote bars stay hidden during the poll when the event says so."""
    rnd = snap.round
    return rnd is None or not ballot_shown(rnd.phase) or (
        snap.event.hide_results_until_close and rnd.phase is Phase.VOTING)


def final_reveal(snap: Snapshot) -> dict[str, Any] | None:
    """The top of the standings, once the reveal reached it: "the winner" only in a final reveal, else the leader."""
    step = reveal_step(snap)
    sw = snap.switches
    if not snap.standings or not (sw.winner_revealed or (step and step >= len(snap.standings))):
        return None
    top = [r for r in _leaderboard(snap) if r["rank"] == 1]
    return {"winners": [r["name"] for r in top], "total": top[0]["total"] if top else None,
            "final": sw.reveal_final, "heading": reveal_heading(sw, 1), "moment": reveal_moment(sw)}


def stage_view(snap: Snapshot, now: float, join_url: str) -> dict[str, Any]:
    """The projector: join QR, answers, countdown, leaderboard with the weight breakdown, reveals."""
    w = snap.event.weights
    board = _leaderboard(snap)
    step = reveal_step(snap)
    place = None
    if step and board:
        shown_from = max(0, len(board) - step)
        newest = board[shown_from]
        place = {"place": newest["rank"], "name": newest["name"], "total": newest["total"],
                 "tied": newest["tied"], "heading": reveal_heading(snap.switches, newest["rank"]),
                 "moment": reveal_moment(snap.switches)}
        board = [_masked(i + 1) if i < shown_from else row for i, row in enumerate(board)]
    overall = final_reveal(snap)
    return {
        "type": "state", "role": "stage", "event": snap.event.name, **_round_head(snap, now),
        "answers": _answers(snap) if snap.round and snap.round.phase is not Phase.DRAFT else [],
        "join_url": join_url, "results_hidden": results_hidden(snap),
        "weights": {"llm": w.llm, "panel": w.panel, "audience": w.audience},
        "leaderboard": board, "reveal": _reveal(snap), "place_reveal": place, "final_reveal": overall,
        "frozen": snap.switches.frozen, "spotlight": _spotlight(snap), "seal": snap.seal,
        "beat_reference": _beat_reference(snap), "questions": questions_view(snap),
    }


def _beat_reference(snap: Snapshot) -> dict[str, Any] | None:
    """`{label: "beat the 90B", rows: [{name, wins, judged}]}` when the event shows it (revealed rounds only)."""
    label = snap.event.stage_win_rate_label
    if label is None:
        return None
    names = snap.names()
    rows = [{"name": names.get(fid, fid), "wins": r.wins, "judged": r.judged}
            for fid, r in snap.win_rates.items() if r.judged]
    return {"label": label, "rows": rows} if rows else None


def _spotlight(snap: Snapshot) -> str | None:
    """The label of the answer the MC put in the spotlight, while that round's answers are on the stage."""
    rnd = snap.round
    fid = snap.switches.spotlight
    if rnd is None or fid is None or rnd.phase is Phase.DRAFT:
        return None
    return rnd.labels.get(fid)


def judge_view(snap: Snapshot, panelist_id: str, now: float) -> dict[str, Any]:
    """A panel judge's page: the anonymised answers, the rubric, and what this judge has saved."""
    rnd = snap.round
    name = next((p.name for p in snap.event.panelists if p.id == panelist_id), panelist_id)
    saved: dict[str, dict[str, float]] = {}
    if rnd is not None:
        for s in snap.panel:
            if s.panelist_id == panelist_id and s.finalist_id in rnd.labels:
                saved[rnd.labels[s.finalist_id]] = s.scores
    phase = rnd.phase if rnd else None
    return {
        "type": "state", "role": "judge", "event": snap.event.name, "you": name, **_round_head(snap, now),
        "answers": _answers(snap, timings=True) if answers_in(phase) else [],
        "criteria": [{"id": c.id, "description": c.description} for c in snap.event.rubric],
        "saved": saved, "open": accepts_panel_scores(phase),
        "locked": is_settled(phase),
    }


def _own_answer(snap: Snapshot, finalist_id: str) -> dict[str, Any] | None:
    """The finalist's own answer to the current round (what their settings produced), and its points once final.

    Only their own text and timing: no label and nothing about the others, so nothing leaks before the reveal.
    """
    rnd = snap.round
    if rnd is None or finalist_id not in snap.answers:
        return None
    text, status = snap.answers[finalist_id]
    fr = snap.scored.get(finalist_id) if rnd.phase is Phase.FINAL else None
    return {"round": rnd.id, "text": text, "status": status,
            "timing": snap.timings.get(finalist_id, {"ttft_ms": None, "total_ms": None, "tokens": 0}),
            "total": fr.total if fr else None}


def finalist_view(snap: Snapshot, finalist_id: str, now: float) -> dict[str, Any]:
    """A finalist's tuning page: current settings, history, and whether they are locked."""
    finalist = snap.event.finalist(finalist_id)
    s = finalist.settings
    history = [{
        "version": h["version"], "system_prompt": h["system_prompt"], "temperature": h["temperature"],
        "max_tokens": h["max_tokens"], "actor": h["actor"], "at": h["created_at"],
    } for h in snap.settings_history.get(finalist_id, [])]
    return {
        "type": "state", "role": "finalist", "event": snap.event.name, "you": finalist.name,
        **_round_head(snap, now),
        "settings": {"system_prompt": s.system_prompt, "temperature": s.temperature, "max_tokens": s.max_tokens,
                     "version": s.version},
        "history": history, "locked": snap.settings_lock is not None, "lock_reason": snap.settings_lock,
        "my_answer": _own_answer(snap, finalist_id),
        "limits": {"system_prompt_chars": MAX_SYSTEM_PROMPT_CHARS, "temperature": list(TEMPERATURE_RANGE),
                   "max_tokens": list(MAX_TOKENS_RANGE)},
    }


def tally_view(rnd: Round, by_label: dict[str, int], hidden: bool = False) -> dict[str, Any]:
    """The stage's vote bars: votes per anonymous label; only the total while results are hidden."""
    counts = {label: by_label.get(label, 0) for label in sorted(rnd.labels.values())}
    total = sum(counts.values())
    return {"type": "tally", "round": rnd.id, "counts": {} if hidden else counts, "total": total, "hidden": hidden}

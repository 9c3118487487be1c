"""The store's questions from the floor: every step in one transaction with its audit event; the export's public
part never holds a pending or rejected question's text; a round asked from one says it came from the audience."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from finale.config import AudienceQuestionsSection, EventConfig
from finale.core.questions import QuestionRefused, Status
from finale.export import collect, export
from finale.report import build_report
from finale.store import SCHEMA_VERSION, QuestionStore, Store, StoreError
from finale.verify import verify
from tests.hub_helpers import director_for

SECRET = "Who-leaked-the-secret-roadmap"


@pytest.fixture
def floor(db_path: Path, demo_config: EventConfig) -> Iterator[Store]:
    """The demo event with a blocklist and a limit of 2 questions per minute."""
    config = demo_config.model_copy(update={"audience_questions": AudienceQuestionsSection(
        per_voter=2, per_minutes=1, blocklist=("darn",))})
    s = Store(db_path)
    s.setup_event(config)
    yield s
    s.close()


def _code(call: object, *args: object) -> str:
    with pytest.raises((StoreError, QuestionRefused)) as refused:  # the store's, or the Director's own check
        call(*args)  # type: ignore[operator]
    return str(refused.value.code)  # type: ignore[attr-defined]


def test_schema_6_adds_the_tables_and_the_store_is_a_question_store(floor: Store) -> None:
    assert SCHEMA_VERSION >= 6 and floor.count("audience_questions") == 0 and floor.count("question_upvotes") == 0
    assert isinstance(floor, QuestionStore)


def test_nothing_is_taken_while_questions_are_closed(floor: Store) -> None:
    assert _code(floor.submit_question, "v1", "Is anyone there?") == "questions_closed"
    assert floor.count("audience_questions") == 0 and floor.events(kind="question.*") == []


def test_every_step_is_one_audited_event(floor: Store) -> None:
    director = director_for(floor)
    director.open_questions()
    q1 = floor.submit_question("voter-a", "  Which model  handles\nunseen maths best? ", 1000.0)
    q2 = floor.submit_question("voter-b", SECRET, 1001.0)
    assert q1.text == "Which model handles unseen maths best?" and q1.status is Status.PENDING
    assert _code(floor.upvote_question, q1.id, "voter-b") == "not_found"  # pending: no phone knows it exists
    director.approve_question(q1.id)
    director.reject_question(q2.id, "off topic")
    assert floor.upvote_question(q1.id, "voter-b").upvotes == 1
    assert _code(floor.upvote_question, q1.id, "voter-b") == "already_voted"
    assert _code(floor.upvote_question, q1.id, "voter-a") == "own_question"
    assert _code(floor.upvote_question, q2.id, "voter-a") == "not_found"
    assert _code(director.approve_question, q2.id) == "illegal_move"  # rejected is final
    director.toggle_star(q1.id)
    director.close_questions()
    assert _code(floor.upvote_question, q1.id, "voter-c") == "questions_closed"
    rnd = director.ask_question_as_round(q1.id, seed=5)
    assert rnd.from_audience and rnd.prompt == q1.text and rnd.question_id is None
    assert floor.floor_question(q1.id).status is Status.ASKED and floor.floor_question(q1.id).round_id == rnd.id
    kinds = [e.kind for e in floor.events() if e.kind.startswith(("question", "round.created"))]
    assert kinds == ["questions.opened", "question.submitted", "question.submitted", "question.approved",
                     "question.rejected", "question.upvoted", "question.starred", "questions.closed",
                     "round.created", "question.asked"]
    created = floor.events(kind="round.created")[-1].payload
    assert created["source"] == "audience" and created["audience_question_id"] == q1.id
    assert floor.events(kind="question.rejected")[0].payload["reason"] == "off topic"
    assert floor.events(kind="question.asked")[0].round_id == rnd.id
    checked = verify(floor)  # the replay reads past every question kind: they change no score
    assert checked.ok, checked.lines()


def test_the_rules_are_asked_again_in_the_transaction(floor: Store) -> None:
    director_for(floor).open_questions()
    assert _code(floor.submit_question, "v", "well darn it", 10.0) == "filtered"
    assert _code(floor.submit_question, "v", "x" * 281, 10.0) == "too_long"
    assert _code(floor.submit_question, "v", " ", 10.0) == "empty"
    floor.submit_question("v", "one", 10.0)
    floor.submit_question("v", "two", 20.0)
    assert _code(floor.submit_question, "v", "three", 30.0) == "rate_limited"
    floor.submit_question("other", "three", 30.0)  # the limit is per voter
    floor.submit_question("v", "three", 71.0)  # the window (1 minute) moved on
    assert len(floor.events(kind="question.submitted")) == 4


def test_questions_open_between_rounds_only_and_a_new_round_closes_them(floor: Store) -> None:
    director = director_for(floor)
    director.new_round("capital", seed=1)
    assert _code(director.open_questions) == "round_open"
    director.void(1, "test")
    director.open_questions()
    director.new_round("capital", seed=2)
    assert not floor.questions_state().open
    assert floor.events(kind="questions.closed")[-1].payload["why"] == "round 2 was created"


def test_asking_refuses_a_question_that_is_not_approved_and_makes_no_round(floor: Store) -> None:
    director = director_for(floor)
    director.open_questions()
    q = floor.submit_question("v", "Pending?")
    assert _code(director.ask_question_as_round, q.id) == "illegal_move"
    assert floor.rounds() == []


def test_the_public_export_and_the_report_never_hold_a_hidden_question(floor: Store, tmp_path: Path) -> None:
    director = director_for(floor)
    director.open_questions()
    shown = floor.submit_question("a", "What did the judge miss?")
    rejected = floor.submit_question("b", SECRET)
    floor.submit_question("c", "Still-pending-question")
    director.approve_question(shown.id)
    director.reject_question(rejected.id, f"quotes {SECRET}")
    data = collect(floor)
    assert [q["text"] for q in data["audience_questions"]] == ["What did the judge miss?"]
    assert "voter_id" not in data["audience_questions"][0]
    whole = json.dumps(data, ensure_ascii=False)
    assert SECRET not in whole and "Still-pending-question" not in whole
    assert "What did the judge miss?" in whole
    withheld = [json.loads(e["payload"]) for e in data["events"] if e["kind"] == "question.submitted"]
    assert sorted(bool(p.get("text")) for p in withheld) == [False, False, True]
    for out in (tmp_path / "x.json", tmp_path / "csv"):
        for path in export(floor, out, "json" if out.suffix else "csv"):
            text = path.read_text()
            assert SECRET not in text and "Still-pending-question" not in text
    report = build_report(floor)
    assert SECRET not in report and "Still-pending-question" not in report
    assert floor.events(kind="question.submitted")[1].payload["text"] == SECRET  # the database keeps it for audit


def test_a_rehearsal_reset_wipes_the_questions(floor: Store) -> None:
    director = director_for(floor)
    director.open_questions()
    q = floor.submit_question("a", "Asked?")
    director.approve_question(q.id)
    director.ask_question_as_round(q.id)
    counts = floor.wipe_show("organiser")
    assert counts["audience_questions"] == 1 and floor.count("audience_questions") == 0
    assert floor.events(kind="question*") == []

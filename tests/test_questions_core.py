"""core.questions: the rules for questions from the floor, as pure functions (unit and property tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finale.core.model import Phase
from finale.core.questions import (
    LEGAL,
    FloorPolicy,
    FloorQuestion,
    Move,
    QuestionRefused,
    QuestionsState,
    Status,
    board_order,
    clean_text,
    close_questions,
    moderate,
    open_questions,
    queue_order,
    rate_refusal,
    submission,
    upvote_refusal,
)

POLICY = FloorPolicy(max_chars=280, per_voter=3, per_seconds=300.0, blocklist=("darn", "heck no"))
NOW = 1_000_000.0


def _submit(text: object, *, is_open: bool = True, recent: tuple[float, ...] = (),
            policy: FloorPolicy = POLICY) -> str:
    return submission(text, is_open=is_open, recent=recent, now=NOW, policy=policy)


def _code(text: object, **kw: object) -> str:
    with pytest.raises(QuestionRefused) as refused:
        _submit(text, **kw)  # type: ignore[arg-type]
    return refused.value.code


@pytest.mark.parametrize("phase", [None, Phase.FINAL, Phase.VOID])
def test_questions_open_between_rounds(phase: Phase | None) -> None:
    opened = open_questions(QuestionsState(), phase, 3, NOW)
    assert opened == QuestionsState(open=True, opened_at=NOW, after_round=3)
    assert close_questions(opened).open is False


@pytest.mark.parametrize("phase", [Phase.DRAFT, Phase.ASKING, Phase.ANSWERED, Phase.JUDGING, Phase.VOTING,
                                   Phase.CLOSED])
def test_questions_never_open_while_a_round_is_under_way(phase: Phase) -> None:
    with pytest.raises(QuestionRefused) as refused:
        open_questions(QuestionsState(), phase, 4, NOW)
    assert refused.value.code == "round_open" and "between rounds" in refused.value.message


def test_opening_twice_or_closing_a_closed_floor_is_refused() -> None:
    with pytest.raises(QuestionRefused, match="open already"):
        open_questions(QuestionsState(open=True), None, None, NOW)
    with pytest.raises(QuestionRefused) as refused:
        close_questions(QuestionsState())
    assert refused.value.code == "questions_closed"


def test_a_question_is_trimmed_inert_one_line_text() -> None:
    assert _submit("  What is\n\tthe \x1b[31mbest\x1b[0m  model?\u202e  ") == "What is the best model?"
    assert clean_text("a\u200b b") == "a\u200b b"  # visible text is kept as written (only controls go)


def test_refusals_say_why_with_their_codes() -> None:
    assert _code("   \n ") == "empty"
    assert _code("x" * 281) == "too_long"
    assert _submit("x" * 280) == "x" * 280
    assert _code("hi", is_open=False) == "questions_closed"
    assert _code(42) == "bad_message"
    assert _code("ok?", recent=(NOW - 10, NOW - 20, NOW - 299)) == "rate_limited"
    assert _submit("ok?", recent=(NOW - 10, NOW - 20, NOW - 301)) == "ok?"


def test_the_rate_limit_says_when_to_try_again() -> None:
    why = rate_refusal((NOW - 100, NOW - 50, NOW - 10), NOW, POLICY)
    assert why is not None and why[0] == "rate_limited" and "3 questions per 5 minutes" in why[1]
    assert "try again in 200 s" in why[1]


@pytest.mark.parametrize("text", ["Oh DARN it", "darn", "well, darn!", "HECK   NO way", "ｄａｒｎ", "da\u200brn"])
def test_the_blocklist_catches_whole_words_in_any_case_and_look_alikes(text: str) -> None:
    with pytest.raises(QuestionRefused) as refused:
        _submit(text)
    assert refused.value.code == "filtered"
    assert "darn" not in refused.value.message and "heck" not in refused.value.message  # the list is never echoed


@pytest.mark.parametrize("text", ["darnation is a word", "undarn", "heck yes", "no heck"])
def test_the_blocklist_keeps_to_word_boundaries(text: str) -> None:
    assert _submit(text) == text


def test_no_blocklist_blocks_nothing() -> None:
    assert not FloorPolicy().blocks("anything at all")


def _q(status: Status = Status.APPROVED, **kw: object) -> FloorQuestion:
    return FloorQuestion(id=kw.pop("id", 1), voter_id=kw.pop("voter_id", "asker"), text="why?",  # type: ignore[arg-type]
                         status=status, **kw)  # type: ignore[arg-type]


def test_upvotes_one_per_voter_not_on_your_own_only_approved_while_open() -> None:
    assert upvote_refusal(_q(), "fan", is_open=True, already=False) is None
    assert upvote_refusal(_q(), "fan", is_open=True, already=True)[0] == "already_voted"  # type: ignore[index]
    assert upvote_refusal(_q(), "asker", is_open=True, already=False)[0] == "own_question"  # type: ignore[index]
    assert upvote_refusal(_q(), "fan", is_open=False, already=False)[0] == "questions_closed"  # type: ignore[index]
    for hidden in (Status.PENDING, Status.REJECTED):  # a phone must not learn a hidden question exists
        assert upvote_refusal(_q(hidden), "fan", is_open=True, already=False)[0] == "not_found"  # type: ignore[index]
    assert upvote_refusal(None, "fan", is_open=True, already=False)[0] == "not_found"  # type: ignore[index]
    assert upvote_refusal(_q(Status.ASKED), "fan", is_open=True, already=False)[0] == "already_asked"  # type: ignore[index]


def test_moderation_moves() -> None:
    pending = _q(Status.PENDING)
    approved = moderate(pending, Move.APPROVE)
    assert approved.status is Status.APPROVED
    starred = moderate(approved, Move.STAR)
    assert starred.starred and starred.status is Status.APPROVED
    assert not moderate(starred, Move.UNSTAR).starred
    asked = moderate(starred, Move.ASK, round_id=7)
    assert asked.status is Status.ASKED and asked.round_id == 7
    rejected = moderate(pending, Move.REJECT, reason="  off\ntopic  ")
    assert rejected.status is Status.REJECTED and rejected.reason == "off topic"


@given(st.sampled_from(list(Status)), st.sampled_from(list(Move)), st.booleans())
def test_every_move_follows_the_table_and_final_states_stay_final(status: Status, move: Move, starred: bool) -> None:
    q = _q(status, starred=starred and status is Status.APPROVED)
    starts, target = LEGAL[move]
    legal = status in starts and not (move is Move.STAR and q.starred) and not (move is Move.UNSTAR and not q.starred)
    try:
        after = moderate(q, move, round_id=3)
    except QuestionRefused as exc:
        assert not legal and exc.code == "illegal_move" and str(q.id) in exc.message
        if status in (Status.REJECTED, Status.ASKED):
            assert "final" in exc.message
        return
    assert legal and after.status is (target or status)
    assert status not in (Status.REJECTED, Status.ASKED)


@given(st.text(max_size=400))
def test_any_accepted_text_is_one_clean_line_within_the_cap(raw: str) -> None:
    try:
        text = _submit(raw)
    except QuestionRefused as exc:
        assert exc.code in ("empty", "too_long", "filtered")
        return
    assert text == text.strip() and text and len(text) <= POLICY.max_chars
    assert "\n" not in text and "\x1b" not in text and "  " not in text
    assert not POLICY.blocks(text)


@given(st.lists(st.floats(min_value=NOW - 1000, max_value=NOW), max_size=10))
def test_the_rate_limit_counts_only_the_window(times: list[float]) -> None:
    in_window = sum(1 for t in times if t > NOW - POLICY.per_seconds)
    assert (rate_refusal(times, NOW, POLICY) is None) == (in_window < POLICY.per_voter)


def test_the_board_shows_public_questions_only_starred_then_upvoted() -> None:
    qs = [_q(Status.PENDING, id=1), _q(Status.REJECTED, id=2), _q(id=3, upvotes=5), _q(id=4, upvotes=9),
          _q(id=5, starred=True), _q(Status.ASKED, id=6)]
    assert [q.id for q in board_order(qs)] == [5, 4, 3, 6]
    assert [q.id for q in queue_order(qs)] == [1, 5, 4, 3, 6, 2]


def test_the_switch_reads_back_and_odd_values_mean_closed() -> None:
    state = QuestionsState(True, NOW, 2)
    assert QuestionsState.from_dict(state.as_dict()) == state
    assert QuestionsState.from_dict({"open": "yes", "opened_at": True, "after_round": "2"}) == QuestionsState()
    assert QuestionsState.from_dict(None) == QuestionsState()

"""The Director's intents for questions from the floor: open and close them, moderate, ask one as the next round.

A mixin of `Director` (finale.director), like finale.director_switches. Each intent
asks core.questions for the rule and writes through the store in one transaction,
as the MC's actor; the store asks the same rule again on the rows as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from finale.core import questions
from finale.core.model import Round
from finale.core.questions import FloorQuestion, Move, QuestionsState, Status
from finale.core.text import one_line
from finale.store import Store


class QuestionIntents:
    """Open/close the floor, approve, reject, star, and ask an approved question as the next round's prompt."""

    # set by Director.__init__
    store: Store
    actor: str
    clock: Callable[[], float]

    if TYPE_CHECKING:  # defined by Director: a new draft round (deck, typed live, or from the floor)
        def new_round(self, question_id: str | None = None, prompt: str | None = None, seed: int | None = None,
                      audience_question_id: int | None = None) -> Round: ...

    def open_questions(self) -> QuestionsState:
        """Open the floor for questions: between rounds only (core.phases.questions_may_open)."""
        with self.store.transaction():
            rnd = self.store.current_round()
            state = questions.open_questions(self.store.questions_state(), rnd.phase if rnd else None,
                                             rnd.id if rnd else None, self.clock())
            return self.store.save_questions_state(state, self.actor, "questions.opened")

    def close_questions(self, why: str = "closed by the MC") -> QuestionsState:
        """Close the floor: phones can no longer submit or upvote; approved questions stay in the queue."""
        with self.store.transaction():
            state = questions.close_questions(self.store.questions_state())
            return self.store.save_questions_state(state, self.actor, "questions.closed", {"why": why})

    def toggle_questions(self) -> QuestionsState:
        """Open questions when closed, close them when open (the console's one key)."""
        return self.close_questions() if self.store.questions_state().open else self.open_questions()

    def _close_questions_for_round(self, round_id: int) -> None:
        """A new round closes the floor (questions are asked between rounds), on the record."""
        with self.store.transaction():
            if self.store.questions_state().open:
                self.close_questions(f"round {round_id} was created")

    def approve_question(self, question_id: int) -> FloorQuestion:
        """Approve a pending question: it goes on the phones' and the stage's board."""
        return self.store.moderate_question(question_id, Move.APPROVE, self.actor)

    def reject_question(self, question_id: int, reason: str = "") -> FloorQuestion:
        """Reject a pending question, for good: no page ever shows it (the reason stays on the console)."""
        return self.store.moderate_question(question_id, Move.REJECT, self.actor, reason=one_line(reason))

    def toggle_star(self, question_id: int) -> FloorQuestion:
        """Star an approved question (it leads the board), or unstar a starred one."""
        current = self.store.floor_question(question_id)
        move = Move.UNSTAR if current.starred else Move.STAR
        return self.store.moderate_question(question_id, move, self.actor)

    def ask_question_as_round(self, question_id: int, seed: int | None = None) -> Round:
        """Make an approved question the next round's unseen prompt, recorded as coming from the audience.

        One transaction: the new draft round (refused while a round is under way) and the
        question's `question.asked` move, so a question is asked once or not at all.
        """
        with self.store.transaction():
            q = self.store.floor_question(question_id)
            if q.status is not Status.APPROVED:  # the refusal the move would give, before a round is made
                questions.moderate(q, Move.ASK, round_id=0)
            created = self.new_round(prompt=q.text, seed=seed, audience_question_id=q.id)
            self.store.moderate_question(q.id, Move.ASK, self.actor, round_id=created.id)
            return created


"""What workers report back to the screens: past-tense facts, never commands."""

from __future__ import annotations

from textual.message import Message

from finale.core.model import Answer, Judgment, Round
from finale.tui.hub import HubStatus
from finale.tui.state import ShowSnapshot


class SnapshotRead(Message):
    """The store changed and was read again."""

    def __init__(self, snapshot: ShowSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class RoundCreated(Message):
    """A draft round exists (from the deck or an ad-hoc prompt)."""

    def __init__(self, rnd: Round) -> None:
        super().__init__()
        self.round = rnd


class AnswerStreamed(Message):
    """A finalist's answer grew (or ended) while the round is being asked."""

    def __init__(self, answer: Answer) -> None:
        super().__init__()
        self.answer = answer


class RoundAsked(Message):
    """Every finalist asked (or the re-asked ones) has an answer, a timeout or an error."""

    def __init__(self, round_id: int, answers: dict[str, Answer]) -> None:
        super().__init__()
        self.round_id = round_id
        self.answers = answers


class JudgingFinished(Message):
    """The LLM judge has scored (or failed on) the answers it was given."""

    def __init__(self, round_id: int, judgments: dict[str, Judgment]) -> None:
        super().__init__()
        self.round_id = round_id
        self.judgments = judgments


class ActionDone(Message):
    """An MC intent was carried out and stored (poll opened, override saved...)."""

    def __init__(self, action: str, detail: str = "") -> None:
        super().__init__()
        self.action = action
        self.detail = detail


class ActionFailed(Message):
    """An MC intent was refused or failed; `error` says why in words for the MC."""

    def __init__(self, action: str, error: str) -> None:
        super().__init__()
        self.action = action
        self.error = error


class HubChecked(Message):
    """The hub's health was checked."""

    def __init__(self, status: HubStatus) -> None:
        super().__init__()
        self.status = status

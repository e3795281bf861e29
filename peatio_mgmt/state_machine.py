"""State machines as data (domain.md §5.2, §6.4): one table per model, one function that applies an event.

Each model's `states.py` declares its TRANSITIONS (event -> allowed from-states, to-state) and the states that
complete it. `StateMachine.fire` is called on a row the caller has locked (select_for_update), so the state it
checks is the committed one and no concurrent transition can slip in between the check and the write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from peatio_mgmt.errors import IllegalTransition


@dataclass(frozen=True)
class StateMachine:
    model: str  # the word in "Cannot <event> <model> in state <state>"
    transitions: Mapping[str, tuple[frozenset[str], str]]  # a Mapping: the apps key it by their TextChoices
    completed: frozenset[str]

    def target(self, event: str, state: str) -> str:
        """The state `event` leads to from `state`; IllegalTransition when the table forbids it."""
        allowed, to_state = self.transitions[event]
        if state not in allowed:
            raise IllegalTransition(event, self.model, state)
        return to_state

    def fire(self, row, event: str) -> str:
        """Move the locked row by `event` (in memory; the caller saves) and return the state it left.

        `completed_at` is set the first time the row enters a completed state and never changes afterwards.
        """
        previous = row.state
        row.state = self.target(event, previous)
        if row.state in self.completed and row.completed_at is None:
            row.completed_at = timezone.now()
        return previous

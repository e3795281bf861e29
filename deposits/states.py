"""The deposit state machine (domain.md §5.2)."""

from deposits.models import DepositState as S
from peatio_mgmt.state_machine import StateMachine

TRANSITIONS = {
    "cancel": (frozenset({S.SUBMITTED}), S.CANCELED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED),
    "skip": (frozenset({S.ACCEPTED}), S.SKIPPED),
    "dispatch": (frozenset({S.ACCEPTED, S.SKIPPED}), S.COLLECTED),
}

# Every state but `submitted` is completed: completed_at is set when a deposit first leaves `submitted`.
DEPOSIT_MACHINE = StateMachine("deposit", TRANSITIONS, frozenset(S) - {S.SUBMITTED})

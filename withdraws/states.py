"""The withdraw state machine (domain.md §6.4). Guards and funds movements live in withdraws.services."""

from peatio_mgmt.state_machine import StateMachine
from withdraws.models import WithdrawState as S

TRANSITIONS = {
    "submit": (frozenset({S.PREPARED}), S.SUBMITTED),
    "cancel": (frozenset({S.PREPARED, S.SUBMITTED, S.ACCEPTED}), S.CANCELED),
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED),
    "reject": (frozenset({S.SUBMITTED, S.ACCEPTED, S.CONFIRMING}), S.REJECTED),
    "process": (frozenset({S.ACCEPTED, S.SKIPPED, S.ERRORED}), S.PROCESSING),
    "load": (frozenset({S.ACCEPTED}), S.CONFIRMING),
    "dispatch": (frozenset({S.PROCESSING}), S.CONFIRMING),
    "success": (frozenset({S.CONFIRMING, S.ERRORED}), S.SUCCEED),
    "skip": (frozenset({S.PROCESSING}), S.SKIPPED),
    "fail": (frozenset({S.PROCESSING, S.CONFIRMING, S.ERRORED}), S.FAILED),
    "err": (frozenset({S.PROCESSING}), S.ERRORED),
}

COMPLETED = frozenset({S.SUCCEED, S.CANCELED, S.REJECTED, S.FAILED})
# States in which the funds of a withdraw may already be on their way: counted by the quick rule (§6.2).
UNDER_WAY = (S.PROCESSING, S.CONFIRMING, S.SUCCEED, S.ERRORED)

WITHDRAW_MACHINE = StateMachine("withdraw", TRANSITIONS, COMPLETED)

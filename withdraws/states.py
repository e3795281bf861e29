"""The withdraw state machine (domain.md §6.4) and the postings of each event, as data. The guards, and the code
that writes the postings (withdraws.services._fire), live in withdraws.services."""

from ledger.models import CurrencyType
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

# The postings each event writes (domain.md §6.4), in order: (movement, the withdraw's amount field). Movements:
# "lock", "unlock", "unlock_and_sub" on the member's accounts; "revenue_credit", "asset_debit" on the platform's.
# A zero amount (no fee) writes no posting.
POSTINGS = {
    "submit": (("lock", "sum"),),
    "cancel": (("unlock", "sum"),),
    "reject": (("unlock", "sum"),),
    "fail": (("unlock", "sum"),),
    "success": (("unlock_and_sub", "sum"), ("revenue_credit", "fee"), ("asset_debit", "amount")),
}
# Funds are locked at submit: an event leaving one of these states has nothing to unlock (cancel of a prepared one).
FUNDS_NOT_LOCKED = frozenset({S.PREPARED})

# The events that take a withdraw to succeed when an operator approves it (domain.md §6.5), by (currency type,
# state); any other state: success alone. A fiat withdraw is paid by the operator outside the exchange; a coin one
# needs its txid. A coin withdraw is never processed on the way (processing queues a send: the coins would leave
# twice).
# Keyed by the row's (type, state), plain strings as loaded (the choices are str, equal to their values).
APPROVE_EVENTS: dict[tuple[str, str], tuple[str, ...]] = {
    (CurrencyType.FIAT, S.ACCEPTED): ("process", "dispatch", "success"),
    (CurrencyType.FIAT, S.SKIPPED): ("process", "dispatch", "success"),
    (CurrencyType.FIAT, S.PROCESSING): ("dispatch", "success"),
    (CurrencyType.COIN, S.ACCEPTED): ("load", "success"),
    (CurrencyType.COIN, S.PROCESSING): ("dispatch", "success"),
}

COMPLETED = frozenset({S.SUCCEED, S.CANCELED, S.REJECTED, S.FAILED})
# States in which the funds of a withdraw may already be on their way: counted by the quick rule (§6.2).
UNDER_WAY = (S.PROCESSING, S.CONFIRMING, S.SUCCEED, S.ERRORED)

WITHDRAW_MACHINE = StateMachine("withdraw", TRANSITIONS, COMPLETED)

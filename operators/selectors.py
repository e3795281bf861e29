"""Reads of the console's dashboard."""

from __future__ import annotations

import json

import redis
from django.db.models import Count
from django.utils import timezone

from deposits.models import Deposit, DepositState
from operators.redis_store import redis_client
from withdraws.models import Withdraw, WithdrawState
from withdraws.selectors import withdraw_is_quick

# Written by the books check (manage.py check_ledger, hourly) as JSON: {"time", "ok", "breaches", ...}.
LEDGER_LAST_CHECK_KEY = "ledger:last_check"


def _counts_by_state(model, states) -> list[tuple[str, int]]:
    counts = dict(model.objects.values_list("state").annotate(n=Count("id")).order_by())
    return [(state, counts.get(state, 0)) for state in states]


def deposit_counts_by_state() -> list[tuple[str, int]]:
    """(state, count) for every deposit state, in the order of the state machine (one GROUP BY)."""
    return _counts_by_state(Deposit, DepositState.values)


def withdraw_counts_by_state() -> list[tuple[str, int]]:
    return _counts_by_state(Withdraw, WithdrawState.values)


def withdraws_waiting_for_operator_ids() -> list[int]:
    """Ids of the accepted withdraws an operator must act on: those outside the quick rule (domain.md §6.2) —
    the quick ones are paid without an operator. The rule is withdraws.selectors.withdraw_is_quick, one query per
    accepted withdraw (few: accepted is a waiting room), so it has exactly one implementation."""
    now = timezone.now()
    accepted = Withdraw.objects.filter(state=WithdrawState.ACCEPTED).select_related("currency").order_by("id")
    return [withdraw.pk for withdraw in accepted if not withdraw_is_quick(withdraw, now=now)]


def withdraws_waiting_for_operator() -> int:
    return len(withdraws_waiting_for_operator_ids())


def ledger_last_check() -> dict | None:
    """The books check's last recorded result, None when it never ran (or Redis cannot tell)."""
    try:
        raw = redis_client().get(LEDGER_LAST_CHECK_KEY)
    except redis.RedisError:
        return None
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None

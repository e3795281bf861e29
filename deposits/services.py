"""Writes of deposits (domain.md §5): create, and the events of deposits.states.

Every top-level service is one durable transaction; the deposit row is locked first, the ledger core then locks
the member's account.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from deposits.models import Deposit, DepositState
from deposits.states import DEPOSIT_MACHINE
from ledger.models import AccountType, Currency, CurrencyType
from ledger.money import MONEY_CONTEXT, ZERO, format_amount
from ledger.selectors import member_get_by_uid
from ledger.services import Entry, Reference
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from peatio_mgmt.idempotency import TID_MAX_LENGTH, TID_TAKEN, TID_TOO_LONG, find_by_tid, insert_with_tid, is_retry

MEMBER_MUST_EXIST = "Member must exist"


@transaction.atomic(durable=True)
def deposit_create(*, uid: str, currency: Currency, amount: Decimal, tid: str | None = None, accept: bool = False,
                   request_digest: str) -> Deposit:
    """Record a fiat deposit of `amount` (fee deducted) and, with `accept`, load it at once — one transaction.

    A repeated request (same tid, same digest) answers the stored deposit and changes nothing.
    """
    existing = find_by_tid(Deposit, tid)
    if is_retry(existing, request_digest):
        return existing
    member = member_get_by_uid(uid)
    fee = currency.deposit_fee
    net = MONEY_CONTEXT.subtract(amount, fee)
    errors = []
    if member is None:
        errors.append(MEMBER_MUST_EXIST)
    if tid and len(tid) > TID_MAX_LENGTH:
        errors.append(TID_TOO_LONG)
    elif existing is not None:
        errors.append(TID_TAKEN)
    if net <= ZERO:
        errors.append("Amount must be greater than 0.0")
    elif fee >= net:
        errors.append(f"Fee must be less than {format_amount(net)}")
    if net < currency.min_deposit_amount:
        errors.append(f"Amount must be greater than or equal to {format_amount(currency.min_deposit_amount)}")
    if errors:
        raise BusinessRuleError(*errors)

    deposit, created = insert_with_tid(
        Deposit, tid=tid, digest=request_digest, constraint="deposits_tid_upper_uniq",
        build=lambda chosen: Deposit(member=member, currency=currency, type=currency.type, tid=chosen, amount=net,
                                     fee=fee, request_digest=request_digest),
    )
    if created and accept:
        _accept(deposit)
    return deposit


def _lock(deposit_id: int) -> Deposit:
    return Deposit.objects.select_for_update(of=("self",)).select_related("member", "currency").get(pk=deposit_id)


def _fire(deposit: Deposit, event: str) -> None:
    DEPOSIT_MACHINE.fire(deposit, event)
    deposit.save(update_fields=["state", "completed_at", "updated_at"])


def _accept(deposit: Deposit) -> None:
    """accept on a locked (or just created) deposit: member balance + N; asset N + F, revenue F, liability N."""
    _fire(deposit, "accept")
    entry = Entry(Reference("deposit", deposit.pk))
    gross = MONEY_CONTEXT.add(deposit.amount, deposit.fee)
    entry.platform(AccountType.ASSET, deposit.currency, "credit", gross)
    if deposit.fee > ZERO:
        entry.platform(AccountType.REVENUE, deposit.currency, "credit", deposit.fee, member=deposit.member)
    entry.plus_funds(deposit.member, deposit.currency, deposit.amount)
    entry.post()


@transaction.atomic(durable=True)
def deposit_accept(*, deposit_id: int) -> Deposit:
    deposit = _lock(deposit_id)
    _accept(deposit)
    return deposit


@transaction.atomic(durable=True)
def deposit_cancel(*, deposit_id: int) -> Deposit:
    deposit = _lock(deposit_id)
    _fire(deposit, "cancel")
    return deposit


@transaction.atomic(durable=True)
def deposit_reject(*, deposit_id: int) -> Deposit:
    deposit = _lock(deposit_id)
    _fire(deposit, "reject")
    return deposit


@transaction.atomic(durable=True)
def deposit_set_state(*, tid: str, state: str) -> Deposit:
    """PUT /deposits/state: accept or cancel the fiat deposit with exactly this tid (a coin deposit is not found)."""
    deposit = (
        Deposit.objects.select_for_update(of=("self",)).select_related("member", "currency")
        .filter(tid=tid, type=CurrencyType.FIAT).first()
    )
    if deposit is None:
        raise RecordNotFound()
    if state == DepositState.ACCEPTED:
        _accept(deposit)
    else:
        _fire(deposit, "cancel")
    return deposit

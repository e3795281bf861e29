"""Writes of withdraws (domain.md §6, §7): creation, the events of withdraws.states, the API's two actions and
the workers' steps (audit, send, retry, confirm) — one implementation each, called by the API, the Celery tasks
and the operators' admin alike.

Every top-level service is one durable transaction that locks the withdraw row first (select_for_update); the
ledger core then locks the member's account row. Event helpers (`_fire` and friends) work on a row already
locked by the caller, so several events can run in one transaction (fiat quick process: process, dispatch,
success). The batch workers (retry, confirm) pick withdraws without locks, ask the gateway with no transaction
open, then lock each withdraw in its own short transaction and act only if it has not changed meanwhile. The
send alone holds its row across the gateway call (withdraw_send says why).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events.services import OneStatement, event_record, record_post, record_save
from ledger.core import Entry, Reference, lock_accounts
from ledger.models import AccountType, Currency, CurrencyType, Member
from ledger.money import MONEY_CONTEXT, ZERO, format_amount, round_down
from ledger.selectors import member_get_by_uid
from operators.services import Operator, audit_record
from peatio_mgmt.errors import BusinessRuleError, IllegalTransition, RecordNotFound
from peatio_mgmt.idempotency import (
    TID_MAX_LENGTH,
    TID_TAKEN,
    TID_TOO_LONG,
    find_by_tid,
    insert_for_uid,
    insert_with_tid,
    is_retry,
)
from withdraws import addresses, beneficiaries
from withdraws.gateways import FAILED, UNKNOWN, GatewayError, SendDeferred, gateway_for
from withdraws.models import Beneficiary, Withdraw
from withdraws.models import WithdrawState as S
from withdraws.selectors import withdraw_is_quick
from withdraws.states import APPROVE_EVENTS, COMPLETED, FUNDS_NOT_LOCKED, POSTINGS, WITHDRAW_MACHINE

logger = logging.getLogger(__name__)

RID_MAX_LENGTH = 95
BATCH_SIZE = 100
RETRY_BASE_DELAY = timedelta(seconds=10)
RETRY_MAX_DELAY = timedelta(minutes=10)
# A coin withdraw in processing this long after its last change lost its send task (a broker down between the
# commit and the publish, a broker restarted without persistence, a worker killed with the task): the retry worker
# queues it again (WITHDRAW_STALE_SEND_AFTER seconds, default 120). Sends are idempotent on the tid.
def stale_send_after() -> timedelta:
    return timedelta(seconds=settings.WITHDRAW_STALE_SEND_AFTER)


# --- creation -------------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def withdraw_create(*, uid: str, currency: Currency, amount: Decimal, rid: str | None = None, tid: str | None = None,
                    process: bool = False, request_digest: str, beneficiary_id: int | None = None) -> Withdraw:
    """Create a withdraw of the gross `amount` and submit it (funds locked) in one transaction; with `process`,
    advance it as the API's process action does. A repeated request (same tid and digest) changes nothing.

    Exactly one of `rid` and `beneficiary_id` (§7.13): a beneficiary is read FOR SHARE before the account row,
    its checks take the place of the rid checks, and the withdraw gets its rid.

    With a rid, when the checks that need no row pass, the withdraw is inserted first (insert_for_uid: one
    statement, the member found by its uid); only when that inserts nothing do the checks that read rows run, to
    answer the retry or the messages. The funds are checked by the submit's posting (ledger_post, after the insert:
    the tid's index entry, then the account, in every creation), which refuses with the same InsufficientFunds."""
    total = round_down(amount, currency.precision)
    fee = currency.withdraw_fee
    paid = MONEY_CONTEXT.subtract(total, fee)
    currency_error = None if currency.enabled else "Currency is disabled"
    tid_error = TID_TOO_LONG if tid and len(tid) > TID_MAX_LENGTH else None
    rid_errors = []
    if beneficiary_id is None:
        assert rid is not None  # exactly one of rid and beneficiary_id (WithdrawNewParams)
        if not rid.strip():
            rid_errors.append("Rid can't be blank")
        if len(rid) > RID_MAX_LENGTH:
            rid_errors.append(f"Rid is too long (maximum is {RID_MAX_LENGTH} characters)")
    amount_errors = []
    if total <= ZERO:
        amount_errors.append("Sum must be greater than 0.0")
    if paid <= ZERO:
        amount_errors.append("Amount must be greater than 0.0")
    if total < currency.min_withdraw_amount:
        amount_errors.append(f"Sum must be greater than or equal to {format_amount(currency.min_withdraw_amount)}")

    def build(chosen: str, member: Member | None = None, beneficiary: Beneficiary | None = None) -> Withdraw:
        destination = beneficiary.rid if beneficiary is not None else rid
        assert destination is not None  # the rid, or the beneficiary's (without one its checks failed)
        return Withdraw(member=member, currency=currency, type=currency.type, tid=chosen, rid=destination, sum=total,
                        fee=fee, amount=paid, request_digest=request_digest, beneficiary=beneficiary)

    withdraw = None
    if beneficiary_id is None and not (currency_error or tid_error or rid_errors or amount_errors):
        withdraw = insert_for_uid(Withdraw, uid=uid, member_model=Member, tid=tid, build=build)
    if withdraw is None:
        existing = find_by_tid(Withdraw, tid)
        if is_retry(existing, request_digest):
            return existing
        member = member_get_by_uid(uid)
        beneficiary = None
        if beneficiary_id is not None:
            beneficiary = beneficiaries.beneficiary_lock_for_withdraw(beneficiary_id=beneficiary_id, member=member)
            rid_errors = beneficiaries.beneficiary_withdraw_failures(beneficiary, currency)
        errors = [message for message in ("Member must exist" if member is None else None, currency_error,
                                          tid_error or (TID_TAKEN if existing is not None else None)) if message]
        if errors or rid_errors or amount_errors:
            raise BusinessRuleError(*errors, *rid_errors, *amount_errors)
        withdraw, created = insert_with_tid(Withdraw, tid=tid, digest=request_digest,
                                            constraint="withdraws_tid_upper_uniq",
                                            build=lambda chosen: build(chosen, member, beneficiary))
        if not created:
            return withdraw
    with OneStatement(withdraw):
        event_record(withdraw, created=True)
        _fire(withdraw, "submit")
        if process:
            _api_process(withdraw)
    return withdraw


# --- events on a locked row -------------------------------------------------------------------------------------


def _lock(withdraw_id: int, *, skip_locked: bool = False) -> Withdraw | None:
    return (
        Withdraw.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("member", "currency").filter(pk=withdraw_id).first()
    )


def _locked_or_404(withdraw_id: int) -> Withdraw:
    withdraw = _lock(withdraw_id)
    if withdraw is None:
        raise RecordNotFound()
    return withdraw


def _error_entry(kind: str, message: str) -> dict:
    return {"class": kind, "message": message, "at": timezone.now().isoformat()}


def _fire(withdraw: Withdraw, event: str, *, error: dict | None = None, queue_send: bool = True) -> None:
    """Apply `event` to the locked withdraw: guard, state, funds and postings of domain.md §6.4, then save."""
    if event in ("load", "dispatch", "success") and withdraw.type == CurrencyType.COIN and not withdraw.txid:
        raise BusinessRuleError(f"Cannot {event} withdraw without a txid")
    if event == "load" and withdraw.type != CurrencyType.COIN:
        raise IllegalTransition(event, "withdraw", withdraw.state)
    previous = WITHDRAW_MACHINE.fire(withdraw, event)
    if error is not None:
        withdraw.error = [*withdraw.error, error]
    if event == "err":
        withdraw.attempts += 1
    record_save(withdraw)
    event_record(withdraw)

    entry = Entry(Reference("withdraw", withdraw.pk))
    for movement, field in POSTINGS.get(event, ()):
        amount = getattr(withdraw, field)
        if amount > ZERO and not (movement == "unlock" and previous in FUNDS_NOT_LOCKED):
            _MOVEMENTS[movement](entry, withdraw, amount)
    if entry.postings:
        record_post(withdraw, entry)
    if event == "process" and withdraw.type == CurrencyType.COIN and queue_send:
        queue_send_on_commit(withdraw.pk)


# How each movement of withdraws.states.POSTINGS is written.
_MOVEMENTS = {
    "lock": lambda entry, w, amount: entry.lock_funds(w.member, w.currency, amount),
    "unlock": lambda entry, w, amount: entry.unlock_funds(w.member, w.currency, amount),
    "unlock_and_sub": lambda entry, w, amount: entry.unlock_and_sub_funds(w.member, w.currency, amount),
    "revenue_credit": lambda entry, w, amount: entry.platform(AccountType.REVENUE, w.currency, "credit", amount,
                                                              member=w.member),
    "asset_debit": lambda entry, w, amount: entry.platform(AccountType.ASSET, w.currency, "debit", amount),
}


def queue_send_on_commit(withdraw_id: int) -> None:
    """Hand the withdraw to the send worker once the transaction that moved it to processing has committed."""
    from withdraws.tasks import send_withdraw

    send_withdraw.delay_on_commit(withdraw_id)


def audit_failures(withdraw: Withdraw) -> list[str]:
    """Reasons to reject a submitted withdraw (domain.md §7.1); empty when it may be accepted."""
    reasons = []
    if not withdraw.member.is_enabled:
        reasons.append("Member is not enabled")
    if not withdraw.currency.enabled:
        reasons.append("Currency is disabled")
    currency = withdraw.currency
    if currency.type == CurrencyType.COIN and not addresses.is_valid_address(currency.address_format, withdraw.rid):
        reasons.append(f"Rid is not a valid {currency.address_format} address")
    return reasons


def _audit(withdraw: Withdraw) -> None:
    """submitted -> rejected (reasons appended to `error`) or accepted."""
    reasons = audit_failures(withdraw)
    if reasons:
        _fire(withdraw, "reject", error=_error_entry("AuditRejected", "; ".join(reasons)))
    else:
        _fire(withdraw, "accept")


def _lock_quick_rule(withdraws: list[Withdraw]) -> None:
    """Serialise the quick rule (§6.2) per member and currency: lock the members' accounts before the rule sums
    their other withdraws. Two decisions that each summed without the lock would see each other's withdraw as not
    yet under way and both pay without an operator. The account rows are the ones the ledger core locks, taken
    through its one helper (ascending order, after the withdraw rows), so this adds no new lock order."""
    lock_accounts([(withdraw.member_id, withdraw.currency_id) for withdraw in withdraws])


def _api_process(withdraw: Withdraw) -> None:
    """The API's process action (management-api.md §4.9): advance the withdraw as far as the partner may."""
    if withdraw.state in COMPLETED:
        raise IllegalTransition("process", "withdraw", withdraw.state)
    if withdraw.state == S.PREPARED:
        _fire(withdraw, "submit")
    if withdraw.type != CurrencyType.FIAT:
        return
    if withdraw.state == S.SUBMITTED:
        _audit(withdraw)
    if withdraw.state == S.ACCEPTED:
        _lock_quick_rule([withdraw])
        if not withdraw_is_quick(withdraw):
            return
        for event in ("process", "dispatch", "success"):
            _fire(withdraw, event)


@transaction.atomic(durable=True)
def withdraw_action(*, tid: str, action: str) -> Withdraw:
    """PUT /withdraws/action: `process` or `cancel` the withdraw with exactly this tid."""
    withdraw = (
        Withdraw.objects.select_for_update(of=("self",)).select_related("member", "currency").filter(tid=tid).first()
    )
    if withdraw is None:
        raise RecordNotFound()
    if action == "process":
        _api_process(withdraw)
    else:
        _fire(withdraw, "cancel")
    return withdraw


# --- one event each, for operators and tests --------------------------------------------------------------------
#
# `operator`: the console's user doing it (operators.services.audit_record records it, last, in the same
# transaction); None for the API, the workers and tests.

RISK_WARNING = ("The withdraw is confirming: its coins may already have left the hot wallet, yet this returns the "
                "money to the member. Tick the extra confirmation to do it anyway.")
STILL_MINEABLE = "Cannot fail withdraw while its transaction can still be mined"


def _record(withdraw: Withdraw, *, operator: Operator | None, action: str, from_state: str, note: str = "") -> None:
    audit_record(actor=operator, action=action, obj=withdraw, from_state=from_state, to_state=withdraw.state,
                 amount=withdraw.sum, currency=withdraw.currency_id, note=note)


def _fire_by_id(withdraw_id: int, event: str, *, txid: str | None, error: dict | None, operator: Operator | None = None,
                check=None) -> Withdraw:
    """Lock the withdraw, run `check` on it, record `txid` when given, fire `event` (domain.md §6.4)."""
    withdraw = _locked_or_404(withdraw_id)
    previous = withdraw.state
    if check is not None:
        check(withdraw)
    if txid is not None:
        withdraw.txid = txid
    _fire(withdraw, event, error=error)
    _record(withdraw, operator=operator, action=event, from_state=previous)
    return withdraw


def _may_return_funds(operator: Operator | None, confirmed_risk: bool):
    """The check of an operator's reject or fail: from confirming the coins may have left, so the funds go back to
    the member only on the operator's explicit confirmation, and for an ethereum withdraw only once the gateway's
    confirmations answer FAILED (domain.md §15.6): returning them while the signed transaction may still be mined
    would pay twice. The node is asked under the withdraw's row lock; a node that cannot be reached refuses too
    (nothing is known). The workers decide from the gateway's answers themselves (withdraw_confirm)."""

    def check(withdraw: Withdraw) -> None:
        if operator is None or withdraw.state != S.CONFIRMING:
            return
        if not confirmed_risk:
            raise BusinessRuleError(RISK_WARNING)
        if withdraw.currency.wallet_gateway == "ethereum" and withdraw.txid:
            try:
                answer = gateway_for(withdraw.currency).confirmations(withdraw.currency, withdraw.txid)
            except GatewayError as error:
                raise BusinessRuleError(f"{STILL_MINEABLE} (the node did not answer: {error})") from error
            if answer is not FAILED:
                raise BusinessRuleError(STILL_MINEABLE)

    return check


@transaction.atomic(durable=True)
def withdraw_submit(*, withdraw_id: int, txid: str | None = None, error: dict | None = None) -> Withdraw:
    """prepared -> submitted, funds locked."""
    return _fire_by_id(withdraw_id, "submit", txid=txid, error=error)


@transaction.atomic(durable=True)
def withdraw_cancel(*, withdraw_id: int, txid: str | None = None, error: dict | None = None,
                    operator: Operator | None = None) -> Withdraw:
    """prepared/submitted/accepted -> canceled, funds unlocked (none from prepared)."""
    return _fire_by_id(withdraw_id, "cancel", txid=txid, error=error, operator=operator)


@transaction.atomic(durable=True)
def withdraw_accept(*, withdraw_id: int, txid: str | None = None, error: dict | None = None) -> Withdraw:
    """submitted -> accepted."""
    return _fire_by_id(withdraw_id, "accept", txid=txid, error=error)


@transaction.atomic(durable=True)
def withdraw_reject(*, withdraw_id: int, txid: str | None = None, error: dict | None = None,
                    operator: Operator | None = None, confirmed_risk: bool = False) -> Withdraw:
    """submitted/accepted/confirming -> rejected, funds unlocked (from confirming: see _may_return_funds)."""
    return _fire_by_id(withdraw_id, "reject", txid=txid, error=error, operator=operator,
                       check=_may_return_funds(operator, confirmed_risk))


@transaction.atomic(durable=True)
def withdraw_process(*, withdraw_id: int, txid: str | None = None, error: dict | None = None,
                     operator: Operator | None = None) -> Withdraw:
    """accepted/skipped/errored -> processing; a coin withdraw's send is queued after commit."""
    return _fire_by_id(withdraw_id, "process", txid=txid, error=error, operator=operator)


@transaction.atomic(durable=True)
def withdraw_load(*, withdraw_id: int, txid: str | None = None, error: dict | None = None) -> Withdraw:
    """coin: accepted -> confirming; needs a txid."""
    return _fire_by_id(withdraw_id, "load", txid=txid, error=error)


@transaction.atomic(durable=True)
def withdraw_dispatch(*, withdraw_id: int, txid: str | None = None, error: dict | None = None) -> Withdraw:
    """processing -> confirming; a coin withdraw needs a txid."""
    return _fire_by_id(withdraw_id, "dispatch", txid=txid, error=error)


@transaction.atomic(durable=True)
def withdraw_success(*, withdraw_id: int, txid: str | None = None, error: dict | None = None) -> Withdraw:
    """confirming/errored -> succeed: funds paid out, fee to revenue."""
    return _fire_by_id(withdraw_id, "success", txid=txid, error=error)


@transaction.atomic(durable=True)
def withdraw_fail(*, withdraw_id: int, txid: str | None = None, error: dict | None = None,
                  operator: Operator | None = None, confirmed_risk: bool = False) -> Withdraw:
    """processing/confirming/errored -> failed, funds unlocked (from confirming: see _may_return_funds)."""
    return _fire_by_id(withdraw_id, "fail", txid=txid, error=error, operator=operator,
                       check=_may_return_funds(operator, confirmed_risk))


@transaction.atomic(durable=True)
def withdraw_err(*, withdraw_id: int, txid: str | None = None, error: dict | None = None) -> Withdraw:
    """processing -> errored, attempts + 1."""
    return _fire_by_id(withdraw_id, "err", txid=txid, error=error)


# --- operators only (domain.md §6.5) ------------------------------------------------------------------------------


# A chain's transaction id as operators copy it from an explorer: hex (bitcoin, 0x-prefixed on ethereum), base58
# and the like, never blanks or other letters than ASCII's; at most the column's 128 characters.
TXID_SHAPE = re.compile(r"[0-9A-Za-z:._-]{1,128}")
TXID_REFUSED = "A txid is 1 to 128 ASCII letters, digits or : . _ -"


def _typed_txid(withdraw: Withdraw, typed: str | None) -> str | None:
    """The txid an operator typed, to record: refused for a fiat withdraw or one that already has another."""
    if not typed:
        return None
    if withdraw.type != CurrencyType.COIN:
        raise BusinessRuleError("A fiat withdraw has no txid")
    if not TXID_SHAPE.fullmatch(typed):
        raise BusinessRuleError(TXID_REFUSED)
    if withdraw.txid and withdraw.txid != typed:
        raise BusinessRuleError(f"The withdraw already has the txid {withdraw.txid}")
    return typed


def _txid_note(withdraw: Withdraw) -> str:
    return f"txid {withdraw.txid}" if withdraw.txid else ""


@transaction.atomic(durable=True)
def withdraw_approve(*, withdraw_id: int, txid: str | None = None, operator: Operator | None = None) -> Withdraw:
    """An operator approves the withdraw as paid: the events of withdraws.states.APPROVE_EVENTS up to succeed, in
    one transaction on the one locked row; a coin withdraw needs its txid (typed, or recorded before)."""
    withdraw = _locked_or_404(withdraw_id)
    previous = withdraw.state
    typed = _typed_txid(withdraw, txid)
    if typed is not None:
        withdraw.txid = typed
    for event in APPROVE_EVENTS.get((withdraw.type, withdraw.state), ("success",)):
        _fire(withdraw, event)
    _record(withdraw, operator=operator, action="approve", from_state=previous, note=_txid_note(withdraw))
    return withdraw


@transaction.atomic(durable=True)
def withdraw_record_txid(*, withdraw_id: int, txid: str, operator: Operator | None = None) -> Withdraw:
    """An operator records the txid of a coin withdraw paid outside the exchange: accepted -> confirming (load) or
    processing -> confirming (dispatch)."""
    withdraw = _locked_or_404(withdraw_id)
    previous = withdraw.state
    if withdraw.type != CurrencyType.COIN:
        raise BusinessRuleError("A fiat withdraw has no txid")
    if not txid:
        raise BusinessRuleError("Enter the txid")
    withdraw.txid = _typed_txid(withdraw, txid)
    _fire(withdraw, "dispatch" if withdraw.state == S.PROCESSING else "load")
    _record(withdraw, operator=operator, action="record_txid", from_state=previous, note=_txid_note(withdraw))
    return withdraw


# --- workers (domain.md §7) ---------------------------------------------------------------------------------------


def _batch(state: str):
    """Withdraws in `state`, oldest first, locked; rows another worker holds are skipped."""
    return list(
        Withdraw.objects.select_for_update(of=("self",), skip_locked=True).select_related("member", "currency")
        .filter(state=state).order_by("created_at", "id")[:BATCH_SIZE]
    )


@transaction.atomic(durable=True)
def withdraw_audit() -> int:
    """Audit submitted withdraws (§7.1); a coin withdraw accepted and quick goes on to processing and is queued
    for sending after commit. Returns how many were audited."""
    withdraws = _batch(S.SUBMITTED)
    # All at once, before the first sum: locking them one by one in batch order could deadlock two audit runs.
    _lock_quick_rule([withdraw for withdraw in withdraws if withdraw.type == CurrencyType.COIN])
    for withdraw in withdraws:
        _audit(withdraw)
        if withdraw.state == S.ACCEPTED and withdraw.type == CurrencyType.COIN and withdraw_is_quick(withdraw):
            _fire(withdraw, "process")
    return len(withdraws)


def _send(withdraw: Withdraw) -> None:
    """§7.2 on a locked coin withdraw in processing: fail, skip, dispatch (txid stored) or err."""
    gateway = gateway_for(withdraw.currency)
    if not gateway.sends:
        return  # manual gateway: an operator pays and records the txid
    if not withdraw.rid.strip():
        _fire(withdraw, "fail", error=_error_entry("BlankRid", "rid is blank"))
        return
    try:
        balance = gateway.hot_wallet_balance(withdraw.currency)
        if balance is None or balance < withdraw.amount:
            _fire(withdraw, "skip")
            return
        txid = gateway.send(withdraw.currency, withdraw.rid, withdraw.amount, withdraw.tid)
    except SendDeferred as error:  # the gateway will not send now (fee above its cap): an operator processes it later
        _fire(withdraw, "skip", error=_error_entry("SendDeferred", str(error)))
        return
    except Exception as error:  # any gateway fault: record it, the retry worker takes over
        logger.warning("send of withdraw %s failed: %r", withdraw.tid, error)
        _fire(withdraw, "err", error=_error_entry(type(error).__name__, str(error)))
        return
    withdraw.txid = txid
    _fire(withdraw, "dispatch")


@transaction.atomic(durable=True)
def withdraw_send(*, withdraw_id: int) -> None:
    """Send one coin withdraw in processing; does nothing when it is elsewhere or another worker holds it.

    The one gateway call made inside a transaction: the withdraw row stays locked across the send so that no other
    worker sends it and no operator moves it between the node paying and the txid being stored with the dispatch
    (a crash in between rolls back to processing, and the send is idempotent on the tid)."""
    withdraw = _lock(withdraw_id, skip_locked=True)
    if withdraw is None or withdraw.state != S.PROCESSING or withdraw.type != CurrencyType.COIN:
        return
    _send(withdraw)


def _pick(state: str) -> list[Withdraw]:
    """Up to BATCH_SIZE withdraws in `state`, oldest first, read without locks: each is then handled in its own
    short transaction that locks it and checks it is still as it was read, so a slow node holds no row while
    it is asked and one withdraw's failure rolls back no other."""
    return list(
        Withdraw.objects.select_related("member", "currency").filter(state=state).order_by("created_at", "id")
        [:BATCH_SIZE]
    )


def _lock_unchanged(read: Withdraw) -> Withdraw | None:
    """The withdraw locked, or None when another transaction holds it or it changed since `read` (moved by an
    operator, the API or another worker while the gateway was asked): the next round looks again."""
    withdraw = _lock(read.pk, skip_locked=True)
    if withdraw is None or withdraw.state != read.state or withdraw.updated_at != read.updated_at:
        return None
    return withdraw


def _each(withdraws: list[Withdraw], step) -> None:
    """Run `step` on every withdraw; a failure is logged and the others still run, then the first is raised so
    the task reports it."""
    first_error = None
    for withdraw in withdraws:
        try:
            step(withdraw)
        except Exception as error:  # noqa: BLE001 — raised again below, after the rest of the batch
            logger.exception("worker step on withdraw %s failed", withdraw.tid)
            first_error = first_error or error
    if first_error is not None:
        raise first_error


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the last failed attempt: 10 s x 2^(attempts-1), at most 10 minutes."""
    return min(RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0), RETRY_MAX_DELAY)


@transaction.atomic(durable=True)
def _requeue_stale_sends(*, now: datetime) -> int:
    """Queue again the send of coin withdraws left in processing without one (no gateway call: one short
    transaction for the batch, rows another transaction holds skipped)."""
    queued = 0
    for withdraw in _batch(S.PROCESSING):
        if withdraw.type == CurrencyType.COIN and gateway_for(withdraw.currency).sends \
                and withdraw.updated_at <= now - stale_send_after():
            queued += 1
            withdraw.save(update_fields=["updated_at"])  # queued again at most once per stale_send_after()
            queue_send_on_commit(withdraw.pk)
    return queued


def withdraw_retry(*, now: datetime | None = None) -> int:
    """Retry errored withdraws whose backoff has passed (§7.3), and queue again the send of coin withdraws left
    in processing without one. Returns how many were tried."""
    now = now or timezone.now()
    tried = _requeue_stale_sends(now=now)
    due = [withdraw for withdraw in _pick(S.ERRORED) if withdraw.updated_at <= now - retry_delay(withdraw.attempts)]
    tried += len(due)
    _each([withdraw for withdraw in due if gateway_for(withdraw.currency).sends], _retry_one)
    return tried


def _retry_one(read: Withdraw) -> None:
    gateway = gateway_for(read.currency)
    found = gateway.find_transaction(read.currency, read.tid)  # no transaction open: the node may be slow
    with transaction.atomic(durable=True):
        withdraw = _lock_unchanged(read)
        if withdraw is None:
            return
        if found is not UNKNOWN and found:
            withdraw.txid = found
            _fire(withdraw, "process", queue_send=False)
            _fire(withdraw, "dispatch")
        elif withdraw.attempts < settings.WITHDRAW_MAX_ATTEMPTS:
            _fire(withdraw, "process", queue_send=False)
            # Sent with this one row locked, as withdraw_send does and for the same reason (see there); idempotent
            # on the tid, so an unknown answer above cannot lead to paying twice.
            _send(withdraw)
        elif found is None and not withdraw.txid:
            _fire(withdraw, "fail", error=_error_entry("GaveUp", f"no transaction after {withdraw.attempts} attempts"))
        # else: the gateway cannot tell, or a txid is recorded (coins may have left), and attempts are used up:
        # left errored for an operator


def withdraw_confirm() -> int:
    """Count confirmations of confirming coin withdraws (§7.4): success at the currency's min_confirmations,
    fail only on the gateway's definite answer that the transaction was reverted or conflicted (FAILED); a
    transaction the gateway does not know (UNKNOWN) or cannot be asked about stays confirming — a withdraw with a
    txid is never refunded for want of an answer. Manual-gateway ones are left to operators.

    The gateway is asked with no transaction open; each answer is then applied in its own short transaction."""
    checked = [withdraw for withdraw in _pick(S.CONFIRMING)
               if withdraw.type == CurrencyType.COIN and gateway_for(withdraw.currency).sends]
    _each(checked, _confirm_one)
    return len(checked)


def _confirm_one(read: Withdraw) -> None:
    gateway = gateway_for(read.currency)
    txid = read.txid
    assert txid is not None  # a confirming withdraw has the txid of its transaction
    try:
        confirmations = gateway.confirmations(read.currency, txid)
    except Exception as error:  # unreachable: try again next round
        logger.warning("confirmations of withdraw %s unknown: %r", read.tid, error)
        return
    if confirmations is UNKNOWN:
        # The node or store does not know the transaction now (restarted, pruned mempool, lost state): no
        # answer. Failing would refund coins that may have left; it stays confirming, rebroadcast if possible
        # (the same signed transaction again: no row needs to be held for it).
        rebroadcast: bool | Exception
        try:
            rebroadcast = gateway.rebroadcast(read.currency, txid, read.rid, read.amount, read.tid)
        except Exception as error:  # unreachable again: next round
            rebroadcast = error
        logger.warning("transaction %s of withdraw %s unknown to the gateway (rebroadcast: %s)",
                       read.txid, read.tid, rebroadcast)
        return
    with transaction.atomic(durable=True):
        withdraw = _lock_unchanged(read)
        if withdraw is None or withdraw.txid != read.txid:
            return
        if confirmations is FAILED:
            _fire(withdraw, "fail", error=_error_entry("TransactionFailed", f"transaction {withdraw.txid} failed or dropped"))
        elif confirmations >= withdraw.currency.min_confirmations:
            withdraw.confirmations = confirmations
            _fire(withdraw, "success")
        elif confirmations != withdraw.confirmations:
            withdraw.confirmations = confirmations
            withdraw.save(update_fields=["confirmations", "updated_at"])

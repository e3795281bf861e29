"""Writes of deposits (domain.md §5): create, and the events of deposits.states.

Every top-level service is one durable transaction; the deposit row is locked first, the ledger core then locks
the member's account.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from deposits.models import (
    Deposit,
    DepositAddressSequence,
    DepositScanBlock,
    DepositScanCursor,
    DepositState,
    PaymentAddress,
)
from deposits.states import DEPOSIT_MACHINE
from events.services import OneStatement, event_record, record_post, record_save
from ledger.core import Entry, Reference
from ledger.models import AccountType, Currency, CurrencyType, Member
from ledger.models import WalletGateway as WalletGatewayKind
from ledger.money import MAX_FRACTION_DIGITS, MONEY_CONTEXT, ZERO, format_amount, round_down
from ledger.selectors import member_get_by_uid
from operators.services import Operator, audit_record
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from peatio_mgmt.idempotency import (
    TID_MAX_LENGTH,
    TID_TAKEN,
    TID_TOO_LONG,
    find_by_tid,
    insert_for_uid,
    insert_with_tid,
    is_retry,
)
from peatio_mgmt.locks import session_lock
from withdraws.gateways import GatewayError, gateway_for

logger = logging.getLogger(__name__)

MEMBER_MUST_EXIST = "Member must exist"
TXID_UNIQUE = "deposits_currency_txid_txout_uniq"


@transaction.atomic(durable=True)
def deposit_create(*, uid: str, currency: Currency, amount: Decimal, tid: str | None = None, accept: bool = False,
                   request_digest: str, operator: Operator | None = None) -> Deposit:
    """Record a fiat deposit of `amount` (fee deducted) and, with `accept`, load it at once — one transaction.
    `operator`: the console's user recording it (audited); None for the API.

    A repeated request (same tid, same digest) answers the stored deposit and changes nothing. When the checks
    that need no row pass, the deposit is inserted first (insert_for_uid: one statement, the member found by its
    uid); only when that inserts nothing do the checks that read rows run, to answer the retry or the messages.
    """
    fee = currency.deposit_fee
    net = MONEY_CONTEXT.subtract(amount, fee)
    tid_error = TID_TOO_LONG if tid and len(tid) > TID_MAX_LENGTH else None
    amount_errors = []
    if net <= ZERO:
        amount_errors.append("Amount must be greater than 0.0")
    elif fee >= net:
        amount_errors.append(f"Fee must be less than {format_amount(net)}")
    if net < currency.min_deposit_amount:
        amount_errors.append(f"Amount must be greater than or equal to {format_amount(currency.min_deposit_amount)}")

    def build(chosen: str, member: Member | None = None) -> Deposit:
        return Deposit(member=member, currency=currency, type=currency.type, tid=chosen, amount=net, fee=fee,
                       request_digest=request_digest)

    deposit = None
    if tid_error is None and not amount_errors:
        deposit = insert_for_uid(Deposit, uid=uid, member_model=Member, tid=tid, build=build)
    if deposit is None:
        existing = find_by_tid(Deposit, tid)
        if is_retry(existing, request_digest):
            return existing
        member = member_get_by_uid(uid)
        errors = [MEMBER_MUST_EXIST] if member is None else []
        if tid_error or existing is not None:
            errors.append(tid_error or TID_TAKEN)
        if errors or amount_errors:
            raise BusinessRuleError(*errors, *amount_errors)
        deposit, created = insert_with_tid(Deposit, tid=tid, digest=request_digest,
                                           constraint="deposits_tid_upper_uniq",
                                           build=lambda chosen: build(chosen, member))
        if not created:
            return deposit
    with OneStatement(deposit):
        event_record(deposit, created=True)
        if accept:
            _accept(deposit)
    _record(deposit, operator=operator, action="create", from_state=None, note=f"fee {deposit.fee}")
    return deposit


def _lock(deposit_id: int) -> Deposit:
    return Deposit.objects.select_for_update(of=("self",)).select_related("member", "currency").get(pk=deposit_id)


def _record(deposit: Deposit, *, operator: Operator | None, action: str, from_state: str | None,
            note: str = "") -> None:
    """The operator's audit record, the last write of the service's transaction (nothing without an operator)."""
    audit_record(actor=operator, action=action, obj=deposit, from_state=from_state, to_state=deposit.state,
                 amount=deposit.amount, currency=deposit.currency_id, note=note)


def _fire(deposit: Deposit, event: str) -> None:
    DEPOSIT_MACHINE.fire(deposit, event)
    record_save(deposit, ["state", "completed_at", "updated_at"])
    event_record(deposit)


def _accept(deposit: Deposit) -> None:
    """accept on a locked (or just created) deposit: member balance + N; asset N + F, revenue F, liability N."""
    _fire(deposit, "accept")
    entry = Entry(Reference("deposit", deposit.pk))
    gross = MONEY_CONTEXT.add(deposit.amount, deposit.fee)
    entry.platform(AccountType.ASSET, deposit.currency, "credit", gross)
    if deposit.fee > ZERO:
        entry.platform(AccountType.REVENUE, deposit.currency, "credit", deposit.fee, member=deposit.member)
    entry.plus_funds(deposit.member, deposit.currency, deposit.amount)
    record_post(deposit, entry)


@transaction.atomic(durable=True)
def deposit_accept(*, deposit_id: int) -> Deposit:
    deposit = _lock(deposit_id)
    _accept(deposit)
    return deposit


@transaction.atomic(durable=True)
def deposit_cancel(*, deposit_id: int, operator: Operator | None = None) -> Deposit:
    """submitted -> canceled; a coin deposit is never canceled (it is rejected)."""
    deposit = _lock(deposit_id)
    previous = deposit.state
    if deposit.type == CurrencyType.COIN:
        raise BusinessRuleError("A coin deposit is never canceled: reject it")
    _fire(deposit, "cancel")
    _record(deposit, operator=operator, action="cancel", from_state=previous)
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


# --- coin deposits: addresses (domain.md §14.2) -------------------------------------------------------------------

CURRENCY_DISABLED = "Currency is disabled"
NO_DEPOSIT_ADDRESSES = "Currency does not support deposit addresses"


def _lock_address_sequence(currency: Currency) -> DepositAddressSequence:
    """The currency's sequence row, created when absent, locked: address creation is serialised per currency."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO deposit_address_sequences (currency_id, next_index) VALUES (%s, 0) "
                       "ON CONFLICT (currency_id) DO NOTHING", [currency.pk])
    return DepositAddressSequence.objects.select_for_update().get(currency=currency)


@transaction.atomic(durable=True)
def deposit_address_create(*, uid: str, currency: Currency) -> PaymentAddress:
    """The member's one deposit address in the coin currency, made by its gateway on the first call and answered
    by every later one (POST /deposit_address/new, management-api 4.22).

    RecordNotFound: no member with this uid (ignoring case). BusinessRuleError: `Currency is disabled`, then
    `Currency does not support deposit addresses`. GatewayError: the gateway could not make one (503); the whole
    transaction rolls back, sequence increment included, so no derivation index is skipped.
    """
    member = member_get_by_uid(uid)
    if member is None:
        raise RecordNotFound()
    if not currency.enabled:
        raise BusinessRuleError(CURRENCY_DISABLED)
    gateway = gateway_for(currency)
    if currency.type != CurrencyType.COIN or not gateway.makes_addresses(currency):
        raise BusinessRuleError(NO_DEPOSIT_ADDRESSES)
    sequence = _lock_address_sequence(currency)
    existing = PaymentAddress.objects.filter(member=member, currency=currency).first()
    if existing is not None:
        return existing
    index = sequence.next_index if currency.wallet_gateway == WalletGatewayKind.ETHEREUM else None
    address = gateway.new_deposit_address(currency, member.uid, sequence.next_index)
    if index is not None:
        sequence.next_index += 1
        sequence.save(update_fields=["next_index"])
    return PaymentAddress.objects.create(member=member, currency=currency, address=address, derivation_index=index)


# --- coin deposits: detection (domain.md §14.3–14.6) ---------------------------------------------------------------
#
# One pass per currency: `deposit_scan_currency`. No database transaction is open while the node is asked; one
# pass at a time per currency is ensured by a session-level advisory lock (held without a transaction), and each
# block, the acceptance step and a rewind are their own transactions that lock the cursor row first and check
# that it is where the pass left it.


def window(currency: Currency) -> int:
    """W = max(reorg depth, min_confirmations): the blocks re-verified on every pass."""
    depth = (currency.wallet_settings or {}).get("reorg_depth") or settings.DEPOSIT_REORG_DEPTH
    return max(int(depth), currency.min_confirmations)


def _reason(kind: str, message: str) -> dict:
    return {"class": kind, "message": message, "at": timezone.now().isoformat()}


def _scan_lock_key(currency_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"deposit-scan:{currency_id}".encode()).digest()[:8], "big", signed=True)


def _record_error(currency_id: str, message: str) -> None:
    now = timezone.now()
    DepositScanCursor.objects.filter(currency_id=currency_id).update(last_error=message[:2000], last_error_at=now,
                                                                    updated_at=now)


def _deposit_addresses(currency: Currency):
    """The filter the gateway applies to a block's recipients: one query (ethereum addresses compared lowercase)."""
    lowercase = currency.address_format == "ethereum"

    def which(addresses) -> set[str]:
        addresses = {a.lower() for a in addresses} if lowercase else set(addresses)
        field = "address__lower" if lowercase else "address"
        rows = (PaymentAddress.objects.annotate(address__lower=Lower("address")) if lowercase
                else PaymentAddress.objects).filter(currency=currency, **{f"{field}__in": addresses})
        return {a.lower() if lowercase else a for a in rows.values_list("address", flat=True)}

    return which


def deposit_scan_currency(*, currency_id: str, now=None) -> str:
    """One pass of the scanner over currency `currency_id` (§14.4). Returns what it did, for logs and tests:
    "busy", "halted", "error", "moved" (the chain moved under the pass) or "scanned"."""
    currency = Currency.objects.get(pk=currency_id)
    gateway = gateway_for(currency)
    if currency.type != CurrencyType.COIN or not gateway.detects_deposits:
        return "unsupported"
    with session_lock(_scan_lock_key(currency_id)) as held:  # one scan pass per currency
        if not held:
            return "busy"
        cursor = DepositScanCursor.objects.filter(currency=currency).first()
        if cursor is not None and cursor.halted:
            return "halted"
        try:
            head = gateway.head(currency)
        except GatewayError as error:
            _record_error(currency_id, str(error))
            return "error"
        w = window(currency)
        try:
            if cursor is None:
                cursor = _create_cursor(currency, gateway, head, w)
            outcome = _verify(currency, gateway, cursor, w)
            if outcome == "scanned":
                outcome = _new_blocks(currency, gateway, head)
        except GatewayError as error:
            _record_error(currency_id, str(error))
            return "error"
        if outcome == "halted":
            return outcome
        _accept_confirmed(currency, head)
        _reject_orphans(currency, now or timezone.now())
        _finish(currency, head, w)
        return outcome


def _create_cursor(currency: Currency, gateway, head: int, w: int) -> DepositScanCursor:
    """The first pass: the cursor at `scan_from_block`, else head - W, with that block stored as the anchor the
    next passes verify against (nothing at or before it is scanned)."""
    start = (currency.wallet_settings or {}).get("scan_from_block")
    height = max(int(start) - 1, 0) if start is not None else max(head - w, 0)
    anchor = gateway.block(currency, height, lambda addresses: set())
    with transaction.atomic(durable=True):
        cursor, created = DepositScanCursor.objects.get_or_create(currency=currency, defaults={"height": height})
        if created and anchor is not None:
            DepositScanBlock.objects.create(currency=currency, number=height, hash=anchor.hash,
                                            parent_hash=anchor.parent_hash)
    return cursor


def _verify(currency: Currency, gateway, cursor: DepositScanCursor, w: int) -> str:
    """Step 3: is the stored block at the cursor still canonical? Else rewind to the fork point, or halt."""
    stored = list(DepositScanBlock.objects.filter(currency=currency, number__lte=cursor.height)
                  .order_by("-number").values_list("number", "hash")[: w + 1])
    if not stored or stored[0][0] != cursor.height:
        return "scanned"
    for number, hash_ in stored:
        if gateway.block_hash(currency, number) == hash_:
            if number == cursor.height:
                return "scanned"
            _rewind(currency, cursor.height, number)
            return "scanned"
    message = f"Reorg deeper than {w} blocks below height {cursor.height}"
    logger.error("deposit scan of %s halted: %s", currency.pk, message)
    now = timezone.now()
    DepositScanCursor.objects.filter(currency=currency).update(halted=True, last_error=message, last_error_at=now,
                                                               updated_at=now)
    return "halted"


@transaction.atomic(durable=True)
def _rewind(currency: Currency, expected_height: int, fork: int) -> None:
    """§14.5: forget the blocks above the fork point P; deposits in them are orphaned (accepted ones are flagged,
    never debited); the cursor goes back to P."""
    cursor = DepositScanCursor.objects.select_for_update().get(currency=currency)
    if cursor.height != expected_height or cursor.halted:
        return
    logger.warning("deposit scan of %s: reorg, rewinding from %s to %s", currency.pk, cursor.height, fork)
    DepositScanBlock.objects.filter(currency=currency, number__gt=fork).delete()
    _orphan(Deposit.objects.filter(currency=currency, type=CurrencyType.COIN, block_number__gt=fork))
    cursor.height = fork
    cursor.save(update_fields=["height", "updated_at"])


def _orphan(deposits) -> None:
    """Mark deposits whose block left the canonical chain (the rows locked in id order): `orphaned_at`, an
    `Orphaned` reason, and confirmations 0 while submitted. Block number and hash stay for the console."""
    now = timezone.now()
    for deposit in deposits.select_for_update(of=("self",)).order_by("pk"):
        if deposit.orphaned_at is None:
            deposit.orphaned_at = now
            deposit.error = [*deposit.error, _reason("Orphaned", f"block {deposit.block_number} {deposit.block_hash} "
                                                                 "left the canonical chain")]
        if deposit.state == DepositState.SUBMITTED:
            deposit.confirmations = 0
        deposit.save(update_fields=["orphaned_at", "error", "confirmations", "updated_at"])


def _new_blocks(currency: Currency, gateway, head: int) -> str:
    """Step 4: the blocks above the cursor, one transaction each."""
    height = DepositScanCursor.objects.get(currency=currency).height
    addresses = _deposit_addresses(currency)
    for number in range(height + 1, min(head, height + settings.DEPOSIT_SCAN_MAX_BLOCKS) + 1):
        block = gateway.block(currency, number, addresses)
        if block is None or not _store_block(currency, block, head):
            return "moved"
    return "scanned"


@transaction.atomic(durable=True)
def _store_block(currency: Currency, block, head: int) -> bool:
    cursor = DepositScanCursor.objects.select_for_update().get(currency=currency)
    if cursor.halted or cursor.height != block.number - 1:
        return False
    parent = DepositScanBlock.objects.filter(currency=currency, number=block.number - 1).values_list("hash", flat=True).first()
    if parent is not None and parent != block.parent_hash:
        return False  # the chain moved since the previous block was read: the next pass verifies
    DepositScanBlock.objects.filter(currency=currency, number__gte=block.number).delete()
    DepositScanBlock.objects.create(currency=currency, number=block.number, hash=block.hash,
                                    parent_hash=block.parent_hash)
    if block.transfers:
        owners = _owners(currency, [t.address for t in block.transfers])
        for transfer in block.transfers:
            _upsert(currency, block, transfer, owners, head)
    # Deposits recorded in another block of this height (a branch a rescan went past) and not found again here.
    _orphan(Deposit.objects.filter(currency=currency, type=CurrencyType.COIN, block_number=block.number,
                                   orphaned_at__isnull=True).exclude(block_hash=block.hash))
    cursor.height = block.number
    # The head this pass read, with the height it let us reach: a pass that dies before step 7 leaves a cursor
    # whose height is still at most its head (invariant 11), as does any read of the cursor during a pass.
    cursor.head = max(cursor.head or 0, head)
    cursor.save(update_fields=["height", "head", "updated_at"])
    return True


def _owners(currency: Currency, addresses: list[str]) -> dict[str, PaymentAddress]:
    rows = PaymentAddress.objects.select_related("member").filter(currency=currency)
    if currency.address_format == "ethereum":
        rows = rows.annotate(lowered=Lower("address")).filter(lowered__in={a.lower() for a in addresses})
        return {row.address.lower(): row for row in rows}
    return {row.address: row for row in rows.filter(address__in=addresses)}


TXID_TAKEN = "Txid has already been taken"


def _insert_coin_deposit(*, member, currency: Currency, amount: Decimal, address: str, txid: str, txout: int,
                         block_number: int | None = None, block_hash: str | None = None,
                         amount_base_units: Decimal | None = None, confirmations: int = 0) -> Deposit:
    """detect: insert a `submitted` coin deposit with a generated tid (fee 0, §14.3), in a savepoint. A (currency,
    txid, txout) already recorded is `Txid has already been taken` (the scan looks it up first, under lock)."""
    try:
        deposit, _ = insert_with_tid(
            Deposit, tid=None, digest="", constraint="deposits_tid_upper_uniq",
            build=lambda tid: Deposit(
                member=member, currency=currency, type=CurrencyType.COIN, tid=tid, amount=amount, fee=ZERO,
                address=address, txid=txid, txout=txout, block_number=block_number, block_hash=block_hash,
                amount_base_units=amount_base_units, confirmations=confirmations,
            ),
        )
    except IntegrityError as error:
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != TXID_UNIQUE:
            raise
        raise BusinessRuleError(TXID_TAKEN) from None
    event_record(deposit, created=True)
    return deposit


def _upsert(currency: Currency, block, transfer, owners: dict[str, PaymentAddress], head: int) -> None:
    """detect (or detect dust), or move a known deposit to the block it is now in (§14.4 step 4)."""
    owner = owners.get(transfer.address.lower() if currency.address_format == "ethereum" else transfer.address)
    amount = round_down(transfer.amount, MAX_FRACTION_DIGITS)
    if owner is None:
        return
    if amount <= ZERO:
        logger.info("deposit scan of %s: %s:%s to %s below one unit of 10^-16, not recorded", currency.pk,
                    transfer.txid, transfer.txout, transfer.address)
        return
    deposit = (Deposit.objects.select_for_update(of=("self",))
               .filter(currency=currency, txid=transfer.txid, txout=transfer.txout).first())
    if deposit is None:
        deposit = _insert_coin_deposit(
            member=owner.member, currency=currency, amount=amount, address=owner.address, txid=transfer.txid,
            txout=transfer.txout, block_number=block.number, block_hash=block.hash,
            amount_base_units=Decimal(transfer.base_units), confirmations=head - block.number + 1,
        )
        if amount < currency.min_deposit_amount:
            deposit.error = [_reason("Dust", f"{format_amount(amount)} is below the minimum deposit "
                                             f"{format_amount(currency.min_deposit_amount)}")]
            deposit.save(update_fields=["error"])
            _fire(deposit, "reject")
        return
    if deposit.block_hash == block.hash and deposit.orphaned_at is None:
        return
    deposit.block_number, deposit.block_hash = block.number, block.hash
    fields = ["block_number", "block_hash", "updated_at"]
    if deposit.state == DepositState.SUBMITTED or deposit.orphaned_at is not None:
        deposit.orphaned_at = None
        fields.append("orphaned_at")
    if deposit.state == DepositState.SUBMITTED:
        deposit.confirmations = max(head - block.number + 1, 0)
        fields.append("confirmations")
    deposit.save(update_fields=fields)


@transaction.atomic(durable=True)
def _accept_confirmed(currency: Currency, head: int) -> None:
    """Step 5: confirmations of the submitted deposits; accept at min_confirmations (cursor not halted)."""
    cursor = DepositScanCursor.objects.select_for_update().get(currency=currency)
    if cursor.halted:
        return
    waiting = (Deposit.objects.select_for_update(of=("self",), skip_locked=True).select_related("member", "currency")
               .filter(currency=currency, type=CurrencyType.COIN, state=DepositState.SUBMITTED,
                       block_number__lte=cursor.height, orphaned_at__isnull=True).order_by("pk"))
    for deposit in waiting:
        assert deposit.block_number is not None  # block_number__lte: a deposit found in a block
        deposit.confirmations = max(head - deposit.block_number + 1, 0)
        if deposit.confirmations >= currency.min_confirmations:
            _accept(deposit)
        deposit.save(update_fields=["confirmations", "updated_at"])


@transaction.atomic(durable=True)
def _reject_orphans(currency: Currency, now) -> None:
    """Step 6: a submitted deposit orphaned for longer than DEPOSIT_ORPHAN_TIMEOUT is rejected."""
    limit = now - timedelta(seconds=settings.DEPOSIT_ORPHAN_TIMEOUT)
    for deposit in (Deposit.objects.select_for_update(of=("self",), skip_locked=True)
                    .filter(currency=currency, type=CurrencyType.COIN, state=DepositState.SUBMITTED,
                            orphaned_at__lt=limit).order_by("pk")):
        deposit.error = [*deposit.error, _reason("Orphaned", "not seen again on the canonical chain")]
        deposit.save(update_fields=["error"])
        _fire(deposit, "reject")


def _finish(currency: Currency, head: int, w: int) -> None:
    """Step 7: prune the blocks below height - W; head, scanned_at; the error cleared."""
    with transaction.atomic(durable=True):
        cursor = DepositScanCursor.objects.select_for_update().get(currency=currency)
        DepositScanBlock.objects.filter(currency=currency, number__lt=cursor.height - w).delete()
        now = timezone.now()
        cursor.head, cursor.scanned_at, cursor.last_error, cursor.last_error_at = head, now, None, None
        cursor.save(update_fields=["head", "scanned_at", "last_error", "last_error_at", "updated_at"])


def deposit_scan_currencies() -> list[str]:
    """The coin currencies a scan pass is queued for: a detecting gateway and at least one deposit address
    (disabled currencies included: coins arriving on their addresses are owed)."""
    from deposits.selectors import scannable_currency_ids

    return scannable_currency_ids()


# --- coin deposits: operators (domain.md §14.7) ---------------------------------------------------------------------

REASON_REQUIRED = "A reason is required"
RISK_REQUIRED = "This deposit may never be received: tick the extra confirmation to accept it anyway"


def coin_deposit_is_risky(deposit: Deposit) -> bool:
    """Accepting it may credit coins that never arrive: below min_confirmations, or orphaned."""
    return deposit.orphaned_at is not None or deposit.confirmations < deposit.currency.min_confirmations


def _operator_reason(deposit: Deposit, kind: str, reason: str) -> str:
    """A coin deposit is accepted or rejected by hand only with a reason, kept in its `error` as `kind`; the
    audit note's part for it (a fiat deposit's reason is optional and kept in the audit record only)."""
    reason = reason.strip()
    if deposit.type == CurrencyType.COIN:
        if not reason:
            raise BusinessRuleError(REASON_REQUIRED)
        deposit.error = [*deposit.error, _reason(kind, reason)]
        deposit.save(update_fields=["error"])
    return f"reason: {reason}" if reason else ""


@transaction.atomic(durable=True)
def deposit_operator_accept(*, deposit_id: int, operator: Operator | None = None, reason: str = "",
                            confirmed_risk: bool = False) -> Deposit:
    """An operator accepts a submitted deposit. A coin one needs a reason (OperatorAccepted) and, below
    min_confirmations or orphaned, the risk confirmation too; later scan passes never credit it again."""
    deposit = _lock(deposit_id)
    previous = deposit.state
    risky = deposit.type == CurrencyType.COIN and coin_deposit_is_risky(deposit)
    note = _operator_reason(deposit, "OperatorAccepted", reason)
    if risky and not confirmed_risk:
        raise BusinessRuleError(RISK_REQUIRED)
    _accept(deposit)
    _record(deposit, operator=operator, action="accept", from_state=previous,
            note="; ".join(part for part in (note, "risk confirmed" if risky else "") if part))
    return deposit


@transaction.atomic(durable=True)
def deposit_record_coin(*, uid: str, currency: Currency, amount: Decimal, txid: str, txout: int = 0,
                        address: str, operator: Operator | None = None) -> Deposit:
    """An operator records a coin deposit of a `manual`-gateway currency (§14.7): detect as the scan does, no
    block; it stays `submitted` (confirmations 0) until an operator accepts it (deposit_operator_accept, which asks
    for the risk box below min_confirmations) or rejects it. A duplicate (currency, txid, txout) is refused."""
    member = member_get_by_uid(uid)
    txid, address = (txid or "").strip(), (address or "").strip()
    errors = []
    if member is None:
        errors.append(MEMBER_MUST_EXIST)
    if currency.type != CurrencyType.COIN or currency.wallet_gateway != WalletGatewayKind.MANUAL:
        errors.append("Currency does not accept manual coin deposits")
    if amount is None or amount <= ZERO:
        errors.append("Amount must be greater than 0.0")
    elif round_down(amount, MAX_FRACTION_DIGITS) != amount:
        errors.append(f"Amount must have at most {MAX_FRACTION_DIGITS} decimals")
    elif amount < currency.min_deposit_amount:
        errors.append(f"Amount must be greater than or equal to {format_amount(currency.min_deposit_amount)}")
    if not txid:
        errors.append("Txid can't be blank")
    if txout is None or txout < 0:
        errors.append("Txout must be greater than or equal to 0")
    if not address:
        errors.append("Address can't be blank")
    if not errors and Deposit.objects.filter(currency=currency, txid=txid, txout=txout).exists():
        errors.append(TXID_TAKEN)
    if errors:
        raise BusinessRuleError(*errors)
    deposit = _insert_coin_deposit(member=member, currency=currency, amount=amount, address=address, txid=txid,
                                   txout=txout)
    _record(deposit, operator=operator, action="create", from_state=None,
            note=f"manual coin deposit: txid {deposit.txid}:{deposit.txout} to {deposit.address}")
    return deposit


@transaction.atomic(durable=True)
def deposit_operator_reject(*, deposit_id: int, operator: Operator | None = None, reason: str = "") -> Deposit:
    """An operator rejects a submitted deposit; a coin one needs a reason (OperatorRejected)."""
    deposit = _lock(deposit_id)
    previous = deposit.state
    note = _operator_reason(deposit, "OperatorRejected", reason)
    _fire(deposit, "reject")
    _record(deposit, operator=operator, action="reject", from_state=previous, note=note)
    return deposit


@transaction.atomic(durable=True)
def deposit_scan_rescan(*, currency_id: str, height: int, operator: Operator | None = None) -> DepositScanCursor:
    """Rescan from block H (0 <= H <= height + 1): the cursor goes to H - 1, stored blocks >= H are forgotten and a
    halt is cleared. Safe at any time: detection is idempotent by (currency, txid, txout)."""
    cursor = DepositScanCursor.objects.select_for_update().filter(currency_id=currency_id).first()
    if cursor is None:
        raise RecordNotFound()
    before = f"height {cursor.height}{' halted' if cursor.halted else ''}"
    if not 0 <= height <= cursor.height + 1:
        raise BusinessRuleError(f"Block must be between 0 and {cursor.height + 1}")
    DepositScanBlock.objects.filter(currency_id=currency_id, number__gte=height).delete()
    cursor.height, cursor.halted = max(height - 1, 0), False
    if height == 0:
        DepositScanBlock.objects.filter(currency_id=currency_id).delete()
    cursor.last_error = cursor.last_error_at = None
    cursor.save(update_fields=["height", "halted", "last_error", "last_error_at", "updated_at"])
    audit_record(actor=operator, action="rescan", obj=cursor, from_state=before, to_state=f"height {cursor.height}",
                 currency=currency_id, note=f"rescan from block {height}")
    return cursor

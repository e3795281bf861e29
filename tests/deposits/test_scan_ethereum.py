"""Coin deposits of ether detected on a real anvil node (domain.md §14.3–14.6, §15.4; scenarios D4–D6, D9–D14,
D17, D18). Every test ends with the books check clean unless it says otherwise."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deposits import services
from deposits.models import Deposit, DepositScanBlock, DepositScanCursor
from deposits.models import DepositState as S
from ledger.books import books_check
from ledger.models import Account, Operation
from peatio_mgmt.locks import session_lock
from tests.anvil import WEI
from tests.factories import MemberFactory


def scan(currency, **kwargs):
    return services.deposit_scan_currency(currency_id=currency.pk, **kwargs)


@pytest.fixture
def alice(anvil, eth):
    anvil.mine(5)  # some history, so that reorgs have blocks to take
    member = MemberFactory(uid="U487205863")
    member.eth_address = services.deposit_address_create(uid=member.uid, currency=eth).address
    return member


def balance(member, currency):
    account = Account.objects.filter(member=member, currency=currency).first()
    return account.balance if account else Decimal(0)


def postings(deposit):
    return [(o.code_id, o.debit, o.credit, o.member_id)
            for o in Operation.objects.filter(reference_type="deposit", reference_id=deposit.pk).order_by("id")]


def test_detect_then_accept_at_min_confirmations(anvil, eth, alice):
    scan(eth)  # the cursor starts at head - W
    tx_hash = anvil.send(alice.eth_address, WEI // 2)
    assert scan(eth) == "scanned"
    deposit = Deposit.objects.get()
    assert (deposit.state, deposit.amount, deposit.txid, deposit.txout, deposit.confirmations) == \
        (S.SUBMITTED, Decimal("0.5"), tx_hash, 0, 1)
    assert deposit.member == alice and deposit.type == "coin" and deposit.tid.startswith("TID")
    assert deposit.address == alice.eth_address and deposit.amount_base_units == WEI // 2
    anvil.mine(10)
    scan(eth)
    deposit.refresh_from_db()
    assert (deposit.state, deposit.confirmations) == (S.SUBMITTED, 11)
    assert balance(alice, eth) == 0
    anvil.mine(1)
    scan(eth)
    deposit.refresh_from_db()
    assert (deposit.state, deposit.confirmations) == (S.ACCEPTED, 12) and deposit.completed_at is not None
    assert balance(alice, eth) == Decimal("0.5")
    assert postings(deposit) == [(102, 0, Decimal("0.5"), None), (202, 0, Decimal("0.5"), alice.pk)]
    anvil.mine(5)
    scan(eth)
    deposit.refresh_from_db()
    assert deposit.confirmations == 12 and balance(alice, eth) == Decimal("0.5")  # frozen, credited once


def test_min_confirmations_1_detects_and_accepts_in_one_pass(anvil, eth, alice):
    eth.min_confirmations = 1
    eth.save()
    scan(eth)
    anvil.send(alice.eth_address, WEI)
    scan(eth)
    assert Deposit.objects.get().state == S.ACCEPTED and balance(alice, eth) == 1


def test_dust_is_recorded_rejected_and_the_minimum_itself_accepted(anvil, eth, alice):
    eth.min_confirmations, eth.min_deposit_amount = 1, Decimal("0.01")
    eth.save()
    scan(eth)
    anvil.send(alice.eth_address, 5 * 10**15)
    anvil.send(alice.eth_address, 10**16)
    scan(eth)
    dust, exact = Deposit.objects.order_by("id")
    assert dust.state == S.REJECTED and [e["class"] for e in dust.error] == ["Dust"] and postings(dust) == []
    assert exact.state == S.ACCEPTED and balance(alice, eth) == Decimal("0.01")


def test_precision_rounds_down_to_16_decimals_and_keeps_the_exact_wei(anvil, eth, alice):
    eth.min_confirmations = 1
    eth.save()
    scan(eth)
    anvil.send(alice.eth_address, WEI + 1)
    anvil.send(alice.eth_address, 100)
    anvil.send(alice.eth_address, 99)  # under 10^-16: not recorded
    scan(eth)
    one, tiny = Deposit.objects.order_by("id")
    assert (one.amount, one.amount_base_units) == (Decimal("1"), WEI + 1)
    assert (tiny.amount, tiny.amount_base_units) == (Decimal("0.0000000000000001"), 100)
    assert balance(alice, eth) == Decimal("1.0000000000000001")


def test_transfers_to_foreign_addresses_are_ignored(anvil, eth, alice):
    scan(eth)
    anvil.send("0x000000000000000000000000000000000000dEaD", WEI)
    scan(eth)
    assert Deposit.objects.count() == 0


def test_two_passes_at_once_do_the_work_of_one(anvil, eth, alice):
    scan(eth)
    anvil.send(alice.eth_address, WEI)
    with session_lock(services._scan_lock_key(eth.pk)) as held:  # another pass holds the currency
        assert held
        from django.db import connections

        other = connections.create_connection("default")
        try:
            other.connect()
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [services._scan_lock_key(eth.pk)])
                assert cursor.fetchone()[0] is False
        finally:
            other.close()
    assert scan(eth) == "scanned" and scan(eth) == "scanned"
    assert Deposit.objects.count() == 1


def test_rescan_from_before_known_deposits_adds_nothing(anvil, eth, alice):
    eth.min_confirmations = 3
    eth.save()
    scan(eth)
    start = anvil.head() + 1
    anvil.send(alice.eth_address, WEI)
    anvil.mine(3)
    anvil.send(alice.eth_address, 2 * WEI)
    scan(eth)
    accepted, submitted = Deposit.objects.order_by("id")
    assert (accepted.state, submitted.state) == (S.ACCEPTED, S.SUBMITTED)
    services.deposit_scan_rescan(currency_id=eth.pk, height=start)
    assert DepositScanCursor.objects.get(currency=eth).height == start - 1
    scan(eth)
    assert Deposit.objects.count() == 2 and Operation.objects.filter(reference_type="deposit").count() == 2
    anvil.mine(2)
    scan(eth)
    assert Deposit.objects.get(pk=submitted.pk).state == S.ACCEPTED and balance(alice, eth) == 3


def test_reorg_moving_the_transfer_keeps_its_tid_and_counts_from_the_new_block(anvil, eth, alice):
    scan(eth)
    raw, tx_hash = anvil.signed(alice.eth_address, WEI)
    anvil.rpc("eth_sendRawTransaction", raw)
    anvil.receipt(tx_hash)
    anvil.mine(2)
    scan(eth)
    deposit = Deposit.objects.get()
    old_block, old_hash = deposit.block_number, deposit.block_hash
    assert deposit.confirmations == 3
    anvil.rpc("anvil_reorg", 3, [[raw, 1]])  # the last 3 blocks re-mined, our transaction one block later
    scan(eth)
    deposit.refresh_from_db()
    assert deposit.block_number == old_block + 1 and deposit.block_hash != old_hash
    assert deposit.confirmations == 2 and deposit.orphaned_at is None and deposit.state == S.SUBMITTED
    assert [e["class"] for e in deposit.error] == ["Orphaned"]
    anvil.mine(9)
    scan(eth)
    deposit.refresh_from_db()
    assert (deposit.state, deposit.confirmations) == (S.SUBMITTED, 11)
    anvil.mine(1)
    scan(eth)
    deposit.refresh_from_db()
    assert (deposit.state, deposit.confirmations, Deposit.objects.count()) == (S.ACCEPTED, 12, 1)
    assert balance(alice, eth) == 1


def test_reorg_dropping_the_transfer_orphans_it_until_it_is_mined_again(anvil, eth, alice):
    eth.min_confirmations = 3
    eth.save()
    scan(eth)
    raw, tx_hash = anvil.signed(alice.eth_address, WEI)
    anvil.rpc("eth_sendRawTransaction", raw)
    anvil.receipt(tx_hash)
    anvil.mine(1)
    scan(eth)
    anvil.rpc("anvil_reorg", 2, [])
    scan(eth)
    deposit = Deposit.objects.get()
    assert deposit.orphaned_at is not None and deposit.confirmations == 0
    anvil.mine(5)
    scan(eth)
    deposit.refresh_from_db()
    assert deposit.state == S.SUBMITTED and deposit.confirmations == 0
    anvil.rpc("eth_sendRawTransaction", raw)  # the same transaction mined again
    anvil.receipt(tx_hash)
    anvil.mine(2)
    scan(eth)
    deposit.refresh_from_db()
    assert deposit.state == S.ACCEPTED and deposit.orphaned_at is None and balance(alice, eth) == 1


def test_orphaned_past_the_timeout_is_rejected(anvil, eth, alice):
    eth.min_confirmations = 3
    eth.save()
    scan(eth)
    anvil.send(alice.eth_address, WEI)
    scan(eth)
    anvil.rpc("anvil_reorg", 1, [])
    scan(eth)
    assert Deposit.objects.get().orphaned_at is not None
    scan(eth, now=timezone.now() + timedelta(days=2))
    deposit = Deposit.objects.get()
    assert deposit.state == S.REJECTED and [e["class"] for e in deposit.error] == ["Orphaned", "Orphaned"]
    assert balance(alice, eth) == 0


def test_reorg_deeper_than_the_window_halts_the_currency_until_a_rescan(anvil, eth, alice):
    eth.min_confirmations = 3
    eth.wallet_settings = {**eth.wallet_settings, "reorg_depth": 4}
    eth.save()
    scan(eth)
    start = anvil.head()
    snapshot = anvil.rpc("evm_snapshot")
    anvil.send(alice.eth_address, WEI)
    anvil.mine(7)
    scan(eth)
    height = DepositScanCursor.objects.get(currency=eth).height
    anvil.rpc("evm_revert", snapshot)
    anvil.mine(9)
    assert scan(eth) == "halted"
    cursor = DepositScanCursor.objects.get(currency=eth)
    assert cursor.halted and cursor.last_error == f"Reorg deeper than 4 blocks below height {height}"
    assert scan(eth) == "halted"
    services.deposit_scan_rescan(currency_id=eth.pk, height=start)
    assert scan(eth) == "scanned" and not DepositScanCursor.objects.get(currency=eth).halted
    # What the halt hid: the deposit's block is gone; the accepted deposit is reported by the books check.
    deposit = Deposit.objects.get()
    assert deposit.orphaned_at is not None
    _orphaned_accepted_breach_expected(deposit)


def _orphaned_accepted_breach_expected(deposit):
    """The deposit of the halted test was accepted before the deep reorg took its block: invariant 9 reports it
    until operators decide; the books check after the test (tests/conftest.py) is satisfied by an operator's
    decision here, recorded as a correction outside this delivery — so the deposit is looked at, then the breach asserted and removed."""
    breaches = [b for b in books_check().breaches if b.check == "coin_deposit_on_chain"]
    assert len(breaches) == 1 and "orphaned" in breaches[0].detail
    Deposit.objects.filter(pk=deposit.pk).update(orphaned_at=None)


def test_accepted_then_reorged_out_is_not_debited_but_reported(anvil, eth, alice):
    eth.min_confirmations = 2
    eth.save()
    scan(eth)
    anvil.send(alice.eth_address, WEI)
    anvil.mine(1)
    scan(eth)
    deposit = Deposit.objects.get()
    assert deposit.state == S.ACCEPTED
    anvil.rpc("anvil_reorg", 3, [])
    scan(eth)
    deposit.refresh_from_db()
    assert deposit.state == S.ACCEPTED and deposit.orphaned_at is not None and balance(alice, eth) == 1
    from django.core.management import call_command

    with pytest.raises(SystemExit) as exit_:
        call_command("check_ledger")
    assert exit_.value.code == 1
    _orphaned_accepted_breach_expected(deposit)


def test_disabled_currency_still_credits_existing_addresses(anvil, eth, alice):
    eth.min_confirmations, eth.enabled = 1, False
    eth.save()
    scan(eth)
    anvil.send(alice.eth_address, WEI)
    scan(eth)
    assert Deposit.objects.get().state == S.ACCEPTED
    from peatio_mgmt.errors import BusinessRuleError

    with pytest.raises(BusinessRuleError, match="Currency is disabled"):
        services.deposit_address_create(uid=MemberFactory().uid, currency=eth)


def test_paid_before_issued_is_found_by_a_rescan(anvil, eth, alice):
    from withdraws.gateways.ethereum import derive_address

    eth.min_confirmations = 1
    eth.save()
    scan(eth)
    start = anvil.head() + 1
    anvil.send(derive_address(eth.wallet_settings["deposit_xpub"], 1), WEI)
    scan(eth)
    assert Deposit.objects.count() == 0
    bob = MemberFactory()
    services.deposit_address_create(uid=bob.uid, currency=eth)
    services.deposit_scan_rescan(currency_id=eth.pk, height=start)
    scan(eth)
    assert Deposit.objects.get().member == bob and balance(bob, eth) == 1


def test_node_down_records_the_error_and_changes_nothing(anvil, eth, alice):
    scan(eth)
    cursor = DepositScanCursor.objects.get(currency=eth)
    anvil.stop()
    assert scan(eth) == "error"
    after = DepositScanCursor.objects.get(currency=eth)
    assert after.height == cursor.height and "unreachable" in after.last_error and after.last_error_at
    assert DepositScanBlock.objects.filter(currency=eth).count() >= 1

from decimal import Decimal

import pytest

from ledger.chart import Chart
from ledger.core import Entry, Reference
from ledger.models import Account, AccountType, Operation
from ledger.postgres_events import CURRENCY_TYPE_MISMATCH
from peatio_mgmt.errors import BusinessRuleError, InsufficientFunds
from tests.factories import fund_member

pytestmark = pytest.mark.django_db


def account(member, currency):
    return Account.objects.get(member=member, currency=currency)


def postings(member=None):
    qs = Operation.objects.order_by("id")
    if member is not None:
        qs = qs.filter(member=member)
    return [(o.code_id, o.debit, o.credit) for o in qs]


@pytest.mark.books_breached  # the postings name a deposit 7 that does not exist
def test_plus_funds_credits_balance_and_posts_main_liability(member, usd):
    Entry(Reference("deposit", 7)).plus_funds(member, usd, Decimal("750.77")).post()

    assert (account(member, usd).balance, account(member, usd).locked) == (Decimal("750.77"), 0)
    op = Operation.objects.get()
    assert (op.type, op.code_id, op.credit, op.debit, op.member, op.reference_type, op.reference_id) == (
        "liability", 201, Decimal("750.77"), 0, member, "deposit", 7)


def test_sub_funds_debits_balance(member, usd):
    fund_member(member, usd, 100)
    Entry().sub_funds(member, usd, Decimal("40.5")).post()
    assert account(member, usd).balance == Decimal("59.5")
    assert postings(member)[-1] == (201, Decimal("40.5"), 0)


def test_lock_funds_moves_balance_to_locked_with_two_postings(member, btc):
    fund_member(member, btc, 1)
    Entry().lock_funds(member, btc, Decimal("0.25")).post()
    acc = account(member, btc)
    assert (acc.balance, acc.locked) == (Decimal("0.75"), Decimal("0.25"))
    assert postings(member)[-2:] == [(202, Decimal("0.25"), 0), (212, 0, Decimal("0.25"))]


def test_unlock_funds_moves_locked_back(member, usd):
    fund_member(member, usd, 10)
    Entry().lock_funds(member, usd, Decimal("10")).post()
    Entry().unlock_funds(member, usd, Decimal("4")).post()
    acc = account(member, usd)
    assert (acc.balance, acc.locked) == (Decimal("4"), Decimal("6"))
    assert postings(member)[-2:] == [(211, Decimal("4"), 0), (201, 0, Decimal("4"))]


def test_unlock_and_sub_funds_takes_from_locked(member, usd):
    fund_member(member, usd, 10)
    Entry().lock_funds(member, usd, Decimal("10")).post()
    Entry().unlock_and_sub_funds(member, usd, Decimal("10")).post()
    acc = account(member, usd)
    assert (acc.balance, acc.locked) == (0, 0)
    assert postings(member)[-1] == (211, Decimal("10"), 0)


@pytest.mark.parametrize("movement, message", [
    ("sub_funds", InsufficientFunds.BALANCE),
    ("lock_funds", InsufficientFunds.BALANCE),
    ("unlock_funds", InsufficientFunds.LOCKED),
    ("unlock_and_sub_funds", InsufficientFunds.LOCKED),
])
def test_movement_beyond_funds_is_refused_and_writes_nothing(member, usd, movement, message):
    fund_member(member, usd, 5)
    before = postings()
    with pytest.raises(InsufficientFunds) as error:
        getattr(Entry(), movement)(member, usd, Decimal("5.01")).post()
    assert error.value.messages == [message]
    assert postings() == before
    assert account(member, usd).balance == Decimal("5")


def test_movement_on_missing_account_reads_it_as_zero(member, usd):
    with pytest.raises(InsufficientFunds):
        Entry().sub_funds(member, usd, Decimal("1")).post()
    assert Operation.objects.count() == 0


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("1E-17"), Decimal("1E+16"), Decimal("NaN")])
def test_zero_negative_or_oversized_amounts_are_refused(member, usd, amount):
    with pytest.raises(BusinessRuleError):
        Entry().plus_funds(member, usd, amount).post()
    assert Operation.objects.count() == 0


def test_currency_type_mismatch_is_refused(member, btc):
    chart = Chart()
    with pytest.raises(BusinessRuleError) as error:
        Entry(chart=chart).credit(chart.get(201), btc, Decimal("1"), member).post()
    assert error.value.messages == [CURRENCY_TYPE_MISMATCH]
    assert Operation.objects.count() == 0


def test_failing_posting_in_an_entry_rolls_back_the_earlier_ones(member, usd):
    fund_member(member, usd, 3)
    before = postings()
    entry = Entry(Reference("transfer", 1)).plus_funds(member, usd, Decimal("1")).sub_funds(member, usd, Decimal("10"))
    with pytest.raises(InsufficientFunds):
        entry.post()
    assert postings() == before
    assert account(member, usd).balance == Decimal("3")


def test_sixteen_integer_and_sixteen_fractional_digits_round_trip(member, usd):
    amount = Decimal("9999999999999999.9999999999999999")
    Entry().plus_funds(member, usd, amount).post()
    assert account(member, usd).balance == amount
    assert Operation.objects.get().credit == amount


def test_fee_revenue_keeps_member_platform_asset_does_not(member, usd):
    Entry().platform(AccountType.ASSET, usd, "credit", Decimal("2"), member).platform(
        AccountType.REVENUE, usd, "credit", Decimal("2"), member).post()
    assert list(Operation.objects.order_by("id").values_list("type", "member")) == [("asset", None), ("revenue", member.pk)]

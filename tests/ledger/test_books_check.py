"""The books check finds every kind of breach, made with raw SQL that bypasses the ledger core."""

import json
import logging
import os
import subprocess
import sys
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from deposits.models import Deposit
from ledger.books import LAST_CHECK_KEY, books_check
from ledger.core import Entry, Reference
from ledger.models import AccountType
from tests.factories import DepositFactory, MemberFactory, TransferFactory, WithdrawFactory, fund_member
from tests.support import database_url
from withdraws.models import Withdraw

# These tests build breaches of the books on purpose: no books check after them (tests/conftest.py).
pytestmark = pytest.mark.books_breached


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def run_command():
    """(exit code, output) of `manage.py check_ledger`."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("check_ledger", stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def checks(report):
    return {breach.check for breach in report.breaches}


def deposit(member, currency, *, state, amount="98.5", fee="1.5", post=True):
    d = DepositFactory(member=member, currency=currency, type=currency.type, tid=f"TID{Deposit.objects.count()}",
                       amount=Decimal(amount), fee=Decimal(fee), state=state)
    if post:
        entry = Entry(Reference("deposit", d.pk)).platform(AccountType.ASSET, currency, "credit", d.amount + d.fee)
        if d.fee:
            entry.platform(AccountType.REVENUE, currency, "credit", d.fee, member)
        entry.plus_funds(member, currency, d.amount).post()
    return d


def withdraw(member, currency, *, state, sum_="10", fee="0.1", steps=("lock",)):
    """A withdraw row and the postings of the given steps: lock, unlock, success."""
    s, f = Decimal(sum_), Decimal(fee)
    w = WithdrawFactory(member=member, currency=currency, type=currency.type, tid=f"W{Withdraw.objects.count()}",
                        rid="DE89370400440532013000", sum=s, fee=f, amount=s - f, state=state)
    for step in steps:
        entry = Entry(Reference("withdraw", w.pk))
        if step == "lock":
            entry.lock_funds(member, currency, s)
        elif step == "unlock":
            entry.unlock_funds(member, currency, s)
        else:
            entry.unlock_and_sub_funds(member, currency, s).platform(AccountType.ASSET, currency, "debit", s - f)
            if f:
                entry.platform(AccountType.REVENUE, currency, "credit", f, member)
        entry.post()
    return w


@pytest.fixture
def books(member, usd, btc):
    """A ledger in good order: funds, a member transfer, deposits and withdraws in every state family."""
    fund_member(member, usd, 1000)
    other = MemberFactory()
    transfer = TransferFactory(key=1)
    Entry(Reference("transfer", transfer.pk)).sub_funds(member, usd, Decimal("5")).plus_funds(other, usd, Decimal("5")).post()
    deposit(member, usd, state="accepted")
    deposit(member, btc, state="collected", amount="0.5", fee="0")
    deposit(member, usd, state="submitted", post=False)
    deposit(member, usd, state="rejected", post=False)
    withdraw(member, usd, state="prepared", steps=())
    withdraw(member, usd, state="submitted")
    withdraw(member, usd, state="confirming")
    withdraw(member, usd, state="rejected", steps=("lock", "unlock"))
    withdraw(member, usd, state="failed", steps=("lock", "unlock"))
    withdraw(member, usd, state="canceled", steps=())
    withdraw(member, usd, state="canceled", steps=("lock", "unlock"))
    withdraw(member, usd, state="succeed", steps=("lock", "success"))
    withdraw(member, usd, state="succeed", fee="0", steps=("lock", "success"))
    return member


def test_clean_ledger_passes_with_exit_zero_and_records_the_result(books, usd):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(LAST_CHECK_KEY)

    code, output = run_command()

    assert code == 0, output
    assert output.strip().endswith("OK: 2 currencies, no breach")
    recorded = json.loads(client.get(LAST_CHECK_KEY))
    assert recorded["ok"] is True and recorded["breaches"] == 0
    usd_summary = next(c for c in recorded["currencies"] if c["currency"] == "usd")
    assert usd_summary["accounts"] == 2 and usd_summary["difference"] == "0.0"


def test_report_totals_each_type_per_currency_and_the_equation_difference(member, usd):
    fund_member(member, usd, 100)
    Entry().platform(AccountType.EXPENSE, usd, "credit", Decimal("7")).post()  # a lone posting: reported, not a breach

    report = books_check()

    assert report.ok
    (summary,) = [s for s in report.currencies if s.currency == "usd"]
    assert (summary.assets, summary.liabilities, summary.revenues, summary.expenses) == (100, 100, 0, 7)
    assert summary.difference == Decimal("7")
    lines = report.render().splitlines()
    assert lines[1].split() == ["currency", "assets", "liabilities", "revenues", "expenses", "difference", "accounts", "breaches"]
    assert lines[2].split() == ["usd", "100.0", "100.0", "0.0", "7.0", "7.0", "1", "0"]


def test_balance_out_of_step_with_postings_is_a_breach_exit_one_and_an_error_log(member, usd, caplog):
    fund_member(member, usd, 100)
    sql("UPDATE accounts SET balance = balance + 1")

    with caplog.at_level(logging.ERROR, logger="ledger.books"):
        code, output = run_command()

    assert code == 1
    assert "BREACH balance_mismatch [usd]" in output and "FAILED: 1 breaches" in output
    assert "books check: 1 breaches" in caplog.text
    assert json.loads(redis.Redis.from_url(settings.REDIS_URL).get(LAST_CHECK_KEY))["ok"] is False


def test_negative_locked_amount_is_a_breach(member, usd):
    sql("ALTER TABLE accounts DROP CONSTRAINT accounts_locked_gte_0")  # rolled back with the test's transaction
    fund_member(member, usd, 100)
    sql("UPDATE accounts SET locked = -1")

    assert "negative_account" in checks(books_check())


def test_posting_with_both_sides_is_a_breach(usd):
    sql("ALTER TABLE operations DROP CONSTRAINT operations_one_sided")
    sql("INSERT INTO operations (type, code, currency_id, debit, credit, created_at) VALUES ('asset', 101, 'usd', 1, 1, now())")

    report = books_check()

    assert checks(report) == {"two_sided_posting"}
    assert report.currencies[0].breaches == 1


def test_transfer_whose_debits_and_credits_differ_is_a_breach(usd):
    transfer = TransferFactory(key=7, kind="referral-payoff")
    Entry(Reference("transfer", transfer.pk)).platform(AccountType.REVENUE, usd, "debit", Decimal("3")).platform(
        AccountType.EXPENSE, usd, "credit", Decimal("3")
    ).post()
    sql("INSERT INTO operations (type, code, currency_id, reference_type, reference_id, debit, credit, created_at)"
        " VALUES ('revenue', 301, 'usd', 'transfer', %s, 0, 2, now())", [transfer.pk])

    (breach,) = books_check().breaches
    assert breach.check == "unbalanced_transfer" and breach.detail == f"transfer {transfer.pk}: debit 3.0000000000000000 != credit 5.0000000000000000"


def test_accepted_deposit_without_postings_is_a_breach(member, usd):
    d = deposit(member, usd, state="accepted", post=False)

    details = [b.detail for b in books_check().breaches if b.check == "event_postings"]

    assert details == [
        f"deposit {d.pk}: asset/main credit member None: postings 0, state implies 100.0000000000000000",
        f"deposit {d.pk}: liability/main credit member {member.pk}: postings 0, state implies 98.5000000000000000",
        f"deposit {d.pk}: revenue/main credit member {member.pk}: postings 0, state implies 1.5000000000000000",
    ]


def test_deposit_postings_of_the_wrong_amount_are_a_breach(member, usd):
    d = deposit(member, usd, state="accepted")
    sql("UPDATE deposits SET amount = amount + 1 WHERE id = %s", [d.pk])

    assert checks(books_check()) == {"event_postings"}


def test_submitted_deposit_with_postings_is_a_breach(member, usd):
    deposit(member, usd, state="submitted")

    assert checks(books_check()) == {"event_postings"}


def test_succeed_withdraw_without_its_fee_revenue_is_a_breach(member, usd):
    fund_member(member, usd, 100)
    w = withdraw(member, usd, state="succeed", steps=("lock",))
    Entry(Reference("withdraw", w.pk)).unlock_and_sub_funds(member, usd, w.sum).platform(AccountType.ASSET, usd, "debit", w.amount).post()

    (breach,) = books_check().breaches
    assert breach.check == "event_postings" and breach.detail.startswith(f"withdraw {w.pk}: revenue/main credit")


def test_canceled_withdraw_holding_only_the_lock_is_a_breach(member, usd):
    fund_member(member, usd, 100)
    withdraw(member, usd, state="canceled", steps=("lock",))

    assert checks(books_check()) == {"event_postings"}


def test_submitted_withdraw_without_its_lock_is_a_breach(member, usd):
    withdraw(member, usd, state="submitted", steps=())

    assert len(books_check().breaches) == 2


def test_command_outside_a_transaction_checks_in_one_snapshot_and_exits_zero():
    # A separate process sees the committed test database (migrated, chart installed) outside any transaction:
    # the path the hourly task and an operator's shell take.
    env = {**os.environ, "DATABASE_URL": database_url()}
    result = subprocess.run([sys.executable, "manage.py", "check_ledger"], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("OK: ")


def test_hourly_task_runs_the_books_check_and_is_scheduled(member, usd):
    from ledger.tasks import books_check as task

    fund_member(member, usd, 100)

    assert task.apply().get() is True
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task.name]
    assert entry["schedule"] == 3600


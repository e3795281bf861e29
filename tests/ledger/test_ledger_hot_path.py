"""The ledger core's hot path: few statements, no savepoint unless rows are created, the chart cached per process."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ledger.core import Entry, Reference
from ledger.models import Account, ChartAccount, Operation
from peatio_mgmt.errors import InsufficientFunds
from tests.factories import MemberFactory, fund_member

pytestmark = pytest.mark.django_db


def test_transfer_between_existing_accounts_is_two_statements_without_savepoint(member, usd):
    other = MemberFactory()
    fund_member(member, usd, 10)
    fund_member(other, usd, 10)

    with CaptureQueriesContext(connection) as queries:
        Entry(Reference("transfer", 1)).sub_funds(member, usd, Decimal("4")).plus_funds(other, usd, Decimal("4")).post()

    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements == ["SELECT", "WITH"]  # lock, then accounts + postings in one statement
    assert Account.objects.get(member=other, currency=usd).balance == Decimal("14")


def test_posted_operations_carry_their_ids_and_times(member, usd):
    operations = fund_member(member, usd, 5)

    assert [op.pk for op in operations] == list(Operation.objects.order_by("id").values_list("id", flat=True))
    assert all(op.created_at is not None and not op._state.adding for op in operations)


def test_entry_without_postings_posts_nothing():
    assert Entry(Reference("transfer", 1)).post() == []


def test_refused_event_leaves_the_callers_transaction_usable(member, usd):
    fund_member(member, usd, 1)
    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            Entry().sub_funds(member, usd, Decimal("2")).post()
        Entry().sub_funds(member, usd, Decimal("1")).post()  # the same transaction goes on

    assert Account.objects.get(member=member, currency=usd).balance == 0


def test_refused_event_on_a_new_account_leaves_no_account_row(member, usd):
    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            Entry().sub_funds(member, usd, Decimal("1")).post()
        assert not Account.objects.filter(member=member).exists()


def test_check_constraint_reached_is_insufficient_funds_and_dooms_the_transaction(member, usd, monkeypatch):
    fund_member(member, usd, 1)
    monkeypatch.setattr("ledger.core._apply", lambda account, posting: setattr(account, "balance", Decimal("-1")))

    with pytest.raises(InsufficientFunds), transaction.atomic():
        Entry().sub_funds(member, usd, Decimal("2")).post()
        pytest.fail("not reached")

    assert Account.objects.get(member=member, currency=usd).balance == Decimal("1")


def test_role_accounts_are_read_once_per_process_and_reloaded_when_the_chart_changes(member, usd):
    fund_member(member, usd, 1)  # loads the chart
    with CaptureQueriesContext(connection) as queries:
        Entry().plus_funds(member, usd, Decimal("1"))
    assert queries.captured_queries == []

    account = ChartAccount.objects.get(code=201)
    account.description = "Member fiat balances"
    account.save()

    with CaptureQueriesContext(connection) as queries:
        Entry().plus_funds(member, usd, Decimal("1"))
    assert len(queries.captured_queries) == 1 and "chart_accounts" in queries.captured_queries[0]["sql"]

"""The ledger core's hot path: few statements, no savepoint unless rows are created, the chart cached per process."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ledger import services as ledger
from ledger.core import CREDIT, Entry, Reference
from ledger.models import Account, ChartAccount, Operation
from peatio_mgmt.errors import InsufficientFunds
from tests.factories import MemberFactory, fund_member

pytestmark = pytest.mark.django_db


def test_transfer_between_existing_accounts_is_one_statement(member, usd):
    other = MemberFactory()
    fund_member(member, usd, 10)
    fund_member(other, usd, 10)

    with CaptureQueriesContext(connection) as queries:
        Entry(Reference("transfer", 1)).sub_funds(member, usd, Decimal("4")).plus_funds(other, usd, Decimal("4")).post()

    assert [q["sql"].split("(")[0] for q in queries.captured_queries] == ["SELECT * FROM ledger_post"]
    assert Account.objects.get(member=other, currency=usd).balance == Decimal("14")


def test_transfer_create_and_operation_post_are_one_statement_each(member, usd):
    other = MemberFactory()
    fund_member(member, usd, 10)
    liability = ChartAccount.objects.get(code=201)
    leg = ledger.TransferLeg(currency=usd, amount=Decimal("4"), source=liability, destination=liability,
                             source_uid=member.uid.lower(), destination_uid=other.uid)

    with CaptureQueriesContext(connection) as queries:
        _, postings = ledger.transfer_create(key=1, kind="member-transfer", desc=None, legs=[leg])
        operation = ledger.operation_post(account=liability, currency=usd, side=CREDIT, amount=Decimal("1"),
                                          uid=other.uid.lower())

    # inside the test's transaction each runs in a savepoint; outside one (the API) the call is the transaction
    calls = [q["sql"].split("(")[0] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert calls == ["SELECT * FROM ledger_transfer_create", "SELECT * FROM ledger_post_uids"]
    assert [p["member__uid"] for p in postings] == [member.uid, other.uid]  # the stored uids, not the given ones
    assert operation.member.uid == other.uid and operation.member_id == other.pk
    assert Account.objects.get(member=other, currency=usd).balance == Decimal("5")


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


def test_check_constraint_reached_is_insufficient_funds_and_dooms_the_transaction(member, usd):
    fund_member(member, usd, 1)
    with transaction.atomic():  # the trigger below goes with this savepoint
        with connection.cursor() as cursor:
            # Writes what the function's checks passed as a negative balance: only the CHECK constraint stops it.
            cursor.execute("CREATE FUNCTION test_break_balance() RETURNS trigger LANGUAGE plpgsql AS"
                           " $$ BEGIN NEW.balance := -1; RETURN NEW; END $$;"
                           " CREATE TRIGGER test_break_balance BEFORE UPDATE ON accounts"
                           " FOR EACH ROW EXECUTE FUNCTION test_break_balance();")
        with transaction.atomic():
            with pytest.raises(InsufficientFunds):
                Entry().plus_funds(member, usd, Decimal("2")).post()
            assert transaction.get_rollback()  # the statement failed: this transaction can only roll back
        transaction.set_rollback(True)

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

"""The books check finds breaches of invariants 9–11 (management-api-extensions.md §8.6), made with SQL that gets
past the database's own guards (dropped in the test's transaction, which rolls them back)."""

from decimal import Decimal

import pytest
from django.db import connection

from ledger.books import books_check
from tests.factories import fund_member
from withdraws import services
from withdraws.beneficiaries import beneficiary_create, beneficiary_digest

# These tests build breaches of the books on purpose: no books check after them (tests/conftest.py).
pytestmark = pytest.mark.books_breached

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def breaches(check):
    return [b.detail for b in books_check().breaches if b.check == check]


@pytest.fixture
def paid_to_beneficiary(member, btc):
    """An active beneficiary and a withdraw made with it."""
    fund_member(member, btc, 1)
    params = {"uid": member.uid, "currency": btc, "name": "Cold storage", "rid": BTC_ADDRESS, "state": "active"}
    beneficiary = beneficiary_create(**params, request_digest=beneficiary_digest(**params))
    withdraw = services.withdraw_create(uid=member.uid, currency=btc, amount=Decimal("0.05"),
                                        beneficiary_id=beneficiary.pk, request_digest="d")
    sql("SET CONSTRAINTS ALL IMMEDIATE")  # Django's deferred foreign keys checked now: the tests alter tables
    return beneficiary, withdraw


@pytest.mark.django_db
def test_a_clean_database_breaches_none_of_the_new_invariants(paid_to_beneficiary):
    assert books_check().ok


@pytest.mark.django_db
def test_withdraw_with_another_destination_than_its_beneficiary_is_a_breach(paid_to_beneficiary):
    beneficiary, withdraw = paid_to_beneficiary
    sql("ALTER TABLE withdraws DROP CONSTRAINT withdraws_beneficiary_destination_fk")
    sql("UPDATE withdraws SET rid = 'bc1qelsewhere' WHERE id = %s", [withdraw.pk])
    assert breaches("beneficiary_destination") == [
        f"withdraw {withdraw.pk}: beneficiary {beneficiary.pk} has another member, currency or rid"]
    sql("UPDATE withdraws SET beneficiary_id = %s WHERE id = %s", [beneficiary.pk + 100, withdraw.pk])
    assert breaches("beneficiary_destination") == [
        f"withdraw {withdraw.pk}: beneficiary {beneficiary.pk + 100} does not exist"]


@pytest.mark.django_db
def test_two_usable_beneficiaries_with_one_destination_are_a_breach(member, paid_to_beneficiary):
    beneficiary, _ = paid_to_beneficiary
    sql("DROP INDEX beneficiaries_usable_rid_uniq")
    sql("INSERT INTO beneficiaries (member_id, currency_id, name, rid, data, state, request_digest, created_at,"
        " updated_at) SELECT member_id, currency_id, 'again', rid, data, 'pending', request_digest, now(), now()"
        " FROM beneficiaries WHERE id = %s", [beneficiary.pk])
    assert breaches("duplicate_beneficiary") == [
        f"member {member.pk}: 2 pending/active beneficiaries with rid {BTC_ADDRESS}"]


@pytest.mark.django_db
def test_a_beneficiary_back_in_pending_or_out_of_its_states_is_a_breach(paid_to_beneficiary):
    beneficiary, _ = paid_to_beneficiary
    sql("ALTER TABLE beneficiaries DISABLE TRIGGER beneficiaries_guard")
    sql("UPDATE beneficiaries SET state = 'pending' WHERE id = %s", [beneficiary.pk])
    assert breaches("beneficiary_state") == [
        f"beneficiary {beneficiary.pk}: state pending but withdraws were made with it"]
    sql("ALTER TABLE beneficiaries DROP CONSTRAINT beneficiaries_state_valid")
    sql("UPDATE beneficiaries SET state = 'deleted' WHERE id = %s", [beneficiary.pk])
    assert breaches("beneficiary_state") == [f"beneficiary {beneficiary.pk}: state deleted is not a state"]


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["deposits", "withdraws", "operations", "trades"])
def test_a_disabled_or_missing_sync_guard_is_a_breach(table):
    assert breaches("sync_guard") == []
    sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_sync_guard")
    assert breaches("sync_guard") == [
        f"{table}: trigger {table}_sync_guard enabled=D type=6 function=sync_guard_publish, sequence cache 1"]
    sql(f"DROP TRIGGER {table}_sync_guard ON {table}")
    assert breaches("sync_guard") == [f"{table}: trigger {table}_sync_guard missing, sequence cache 1"]


@pytest.mark.django_db
def test_a_row_level_guard_or_a_cached_sequence_is_a_breach():
    sql("DROP TRIGGER trades_sync_guard ON trades")
    sql("CREATE TRIGGER trades_sync_guard BEFORE INSERT ON trades FOR EACH ROW EXECUTE FUNCTION sync_guard_publish('20740')")
    sql("ALTER SEQUENCE deposits_id_seq CACHE 20")
    assert breaches("sync_guard") == [
        "deposits: trigger deposits_sync_guard enabled=O type=6 function=sync_guard_publish, sequence cache 20",
        "trades: trigger trades_sync_guard enabled=O type=7 function=sync_guard_publish, sequence cache 1"]


@pytest.mark.django_db
def test_check_ledger_command_reports_a_guard_breach_and_exits_one():
    from io import StringIO

    from django.core.management import call_command

    sql("ALTER TABLE operations DISABLE TRIGGER operations_sync_guard")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("check_ledger", stdout=out)
    assert exit_.value.code == 1
    assert "BREACH sync_guard [] operations: trigger operations_sync_guard enabled=D" in out.getvalue()

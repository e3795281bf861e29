from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from ledger.models import Account, Operation
from tests.factories import OperationFactory, fund_member

pytestmark = pytest.mark.django_db


def test_journal_rows_cannot_be_updated_or_deleted(member, usd):
    fund_member(member, usd, 1)
    op = Operation.objects.first()
    for statement in ("UPDATE operations SET credit = 2 WHERE id = %s", "DELETE FROM operations WHERE id = %s"):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [op.pk])
    assert Operation.objects.get(pk=op.pk).credit == Decimal("1")


def test_database_refuses_negative_balance(member, usd):
    fund_member(member, usd, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(member=member).update(balance=Decimal("-0.0000000000000001"))


def test_database_refuses_two_sided_or_empty_posting(usd):
    for debit, credit in ((1, 1), (0, 0)):
        with pytest.raises(IntegrityError), transaction.atomic():
            OperationFactory(currency=usd, debit=debit, credit=credit)

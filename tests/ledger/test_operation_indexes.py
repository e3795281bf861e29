"""The list queries of the journals are served by the indexes of domain.md §2.5 (EXPLAIN on a small journal).

The journal is filled with plain INSERT … SELECT (no balances behind the member postings: only plans are checked).
"""

from datetime import UTC, datetime

import pytest
from django.db import connection

from ledger.models import Currency
from ledger.selectors import operation_ids
from tests.factories import MemberFactory

# A journal filled by SQL for EXPLAIN, no account behind its postings: no books check after the tests.
pytestmark = [pytest.mark.django_db, pytest.mark.books_breached]

# Proportions of a real journal: mostly member liabilities of one currency made by withdraws, so that each list
# filter selects a small slice (as on a journal of millions of rows) and the planner has a choice to make.
FILL = """
INSERT INTO operations (type, code, currency_id, member_id, reference_type, reference_id, debit, credit, created_at)
SELECT CASE WHEN mod(g, 100) < 96 THEN 'liability' WHEN mod(g, 100) < 98 THEN 'asset'
            WHEN mod(g, 100) = 98 THEN 'revenue' ELSE 'expense' END,
       CASE WHEN mod(g, 100) < 96 THEN 201 WHEN mod(g, 100) < 98 THEN 101 WHEN mod(g, 100) = 98 THEN 301 ELSE 401 END,
       CASE WHEN mod(g, 97) = 0 THEN 'eur' ELSE 'usd' END,
       CASE WHEN mod(g, 100) < 96 THEN %(first_member)s + mod(g, 83) END,
       COALESCE((ARRAY['deposit', 'transfer', NULL])[1 + mod(g, 89)], CASE WHEN mod(g, 89) > 2 THEN 'withdraw' END),
       CASE WHEN mod(g, 89) <> 2 THEN g END,
       0, 1, timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 40000) g
"""


@pytest.fixture
def journal(demo):
    members = MemberFactory.create_batch(100)
    with connection.cursor() as cursor:
        cursor.execute(FILL, {"first_member": members[0].pk})
        cursor.execute("ANALYZE operations")
    return members


def plan(**filters):
    return operation_ids(**filters)[:100].explain()


CASES = [
    ("asset", {}, ["operations_type_id"]),
    # the currency filter of liabilities: the (type, currency, id) index or the foreign key's (currency) index
    ("liability", {"currency": "eur"}, ["operations_type_currency_id", "operations_currency_id"]),
    # a member and a currency: the (type, member, currency, id) index, or — when the statistics say the member has
    # few rows — the (type, member, id) index with the currency as a filter; both read only that member's rows
    ("liability", {"member": 4, "currency": "usd"}, ["operations_type_member_cur_id", "operations_type_member_id"]),
    ("liability", {"member": 4}, ["operations_type_member_id"]),
    ("revenue", {"reference_type": "DEPOSIT"}, ["operations_type_reftype_id"]),
    ("asset", {"time_from": datetime(2026, 1, 20, tzinfo=UTC), "time_to": datetime(2026, 1, 21, tzinfo=UTC)},
     ["operations_type_created_at"]),
]


def test_each_list_filter_is_served_by_an_index(journal):
    for type_, filters, indexes in CASES:
        filters = dict(filters)
        if "currency" in filters:
            filters["currency"] = Currency.objects.get(pk=filters["currency"])
        if "member" in filters:
            filters["member"] = journal[filters["member"]]
        text = plan(type_=type_, **filters)
        assert any(index in text for index in indexes), text
        assert "Seq Scan on operations" not in text, text
        # the reference_type filter compares the stored lowercase value with the lowercased parameter
        if "reference_type" in filters:
            assert "reference_type = 'deposit'" in text.replace(")::text", ""), text

"""Every money column of the schema is NUMERIC(32,16) (domain.md §1), read from the migrated database itself."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# Numeric columns that are not money, each with the reason.
NOT_MONEY = {
    # A market's fee is a rate (0..0.5 with at most 4 decimals), not an amount: domain.md gives it NUMERIC(17,16).
    ("markets", "ask_fee"): (17, 16),
    ("markets", "bid_fee"): (17, 16),
    # Whole numbers of a chain's base unit (wei, satoshi) as the node reports them: uint256 fits NUMERIC(78,0).
    # The amount in the currency's unit beside each of them is NUMERIC(32,16).
    ("deposits", "amount_base_units"): (78, 0),
    **{("ethereum_transactions", column): (78, 0) for column in (
        "value_wei", "max_fee_per_gas", "max_priority_fee_per_gas", "gas_price", "gas_used", "effective_gas_price")},
}


def numeric_columns() -> dict[tuple[str, str], tuple[int | None, int | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type = 'numeric'"
        )
        return {(table, column): (precision, scale) for table, column, precision, scale in cursor.fetchall()}


def test_every_numeric_column_is_numeric_32_16_but_the_listed_rates():
    columns = numeric_columns()
    assert ("orders", "fee") in columns and ("accounts", "balance") in columns  # the query sees the app tables
    wrong = {name: type_ for name, type_ in columns.items() if type_ != NOT_MONEY.get(name, (32, 16))}
    assert wrong == {}


def test_no_column_is_binary_floating_point():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type IN ('real', 'double precision')"
        )
        assert cursor.fetchall() == []

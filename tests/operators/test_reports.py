"""Balance sheet and income statement: numbers from real postings, period boundaries, CSV, permission."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.chart import Chart
from ledger.core import Entry, Reference
from ledger.models import AccountType, Operation
from operators import reports
from tests.factories import OperationFactory, fund_member

# The books of the reports are posted by hand (deposits that do not exist, a lone revenue that breaks the equation):
# no books check after these tests.
pytestmark = [pytest.mark.django_db, pytest.mark.books_breached]

ASSET, REVENUE, EXPENSE = AccountType.ASSET, AccountType.REVENUE, AccountType.EXPENSE


@pytest.fixture
def books(member, usd, btc):
    """A fiat deposit of 100 with fee 1.5, an expense of 2 paid from assets, a lone revenue posting of 5
    (which breaks the equation by 5), and a coin deposit of 0.5."""
    (Entry(Reference("deposit", 1)).platform(ASSET, usd, "credit", Decimal("100"))
     .plus_funds(member, usd, Decimal("98.5")).platform(REVENUE, usd, "credit", Decimal("1.5"), member).post())
    Entry().platform(EXPENSE, usd, "credit", Decimal("2")).platform(ASSET, usd, "debit", Decimal("2")).post()
    Entry().platform(REVENUE, usd, "credit", Decimal("5")).post()
    fund_member(member, btc, "0.5")


def by_currency(rows):
    return {row.currency: row for row in rows}


def test_balance_sheet_sums_each_account_type_per_currency(books):
    rows = by_currency(reports.balance_sheet())
    usd = rows["usd"]
    assert (usd.assets, usd.liabilities, usd.revenues, usd.expenses) == (Decimal("98"), Decimal("98.5"), Decimal("6.5"), Decimal("2"))
    assert usd.difference == Decimal("-5")
    btc = rows["btc"]
    assert (btc.assets, btc.liabilities, btc.revenues, btc.expenses, btc.difference) == (Decimal("0.5"), Decimal("0.5"), 0, 0, 0)


def test_balance_sheet_lists_currencies_without_postings_at_zero(usd):
    assert [(r.currency, r.assets, r.difference) for r in reports.balance_sheet()] == [("usd", 0, 0)]


def test_balance_sheet_until_excludes_postings_made_at_or_after_it(books):
    first, last = Operation.objects.earliest("id").created_at, Operation.objects.latest("id").created_at
    assert by_currency(reports.balance_sheet(until=first))["usd"].assets == 0
    assert by_currency(reports.balance_sheet(until=last + timedelta(microseconds=1)))["usd"].assets == Decimal("98")


def test_income_statement_reports_revenues_expenses_and_profit(books):
    now = datetime.now(UTC)
    rows = by_currency(reports.income_statement(start=now - timedelta(days=1), end=now + timedelta(days=1)))
    assert (rows["usd"].revenues, rows["usd"].expenses, rows["usd"].profit) == (Decimal("6.5"), Decimal("2"), Decimal("4.5"))
    assert rows["btc"].profit == 0


def backdated_revenue(currency, amount: str, at: datetime) -> None:
    """A platform revenue posting at a chosen time. The ledger core stamps postings with the database's now(), so
    a past day can only be made by inserting the row; platform postings touch no member account."""
    account = Chart().account(REVENUE, "main", currency)
    OperationFactory(code=account, currency=currency, credit=Decimal(amount), created_at=at)


def test_income_statement_period_includes_both_whole_days_in_utc(admin_client, usd):
    backdated_revenue(usd, "1", datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC))
    backdated_revenue(usd, "10", datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    backdated_revenue(usd, "100", datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC))
    backdated_revenue(usd, "1000", datetime(2026, 3, 1, 0, 0, tzinfo=UTC))

    def revenues(query):
        response = admin_client.get(f"/admin/reports/income-statement/?{query}&format=csv")
        return {row["currency"]: row["revenues"] for row in csv.DictReader(io.StringIO(response.content.decode()))}

    assert revenues("from=2026-02-01&to=2026-02-28") == {"usd": "110.0"}
    assert revenues("from=2026-01-31&to=2026-01-31") == {"usd": "1.0"}
    assert revenues("from=2026-01-01&to=2026-03-01") == {"usd": "1111.0"}


def test_balance_sheet_as_of_a_day_includes_that_whole_day(admin_client, usd):
    backdated_revenue(usd, "1", datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC))
    backdated_revenue(usd, "10", datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    response = admin_client.get("/admin/reports/balance-sheet/?to=2026-01-31&format=csv")
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["currency", "assets", "liabilities", "revenues", "expenses", "difference"],
        ["usd", "0.0", "0.0", "1.0", "0.0", "-1.0"],
    ]


def test_balance_sheet_csv_has_every_currency_in_currency_order_with_exact_amounts(admin_client, books):
    response = admin_client.get("/admin/reports/balance-sheet/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="balance-sheet-now.csv"' == response["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["currency", "assets", "liabilities", "revenues", "expenses", "difference"],
        ["btc", "0.5", "0.5", "0.0", "0.0", "0.0"],
        ["usd", "98.0", "98.5", "6.5", "2.0", "-5.0"],
    ]


def test_income_statement_csv(admin_client, books):
    today = datetime.now(UTC).date()
    response = admin_client.get(f"/admin/reports/income-statement/?from={today}&to={today}&format=csv")
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["currency", "revenues", "expenses", "profit"],
        ["btc", "0.0", "0.0", "0.0"],
        ["usd", "6.5", "2.0", "4.5"],
    ]
    yesterday = today - timedelta(days=1)
    response = admin_client.get(f"/admin/reports/income-statement/?from={yesterday}&to={yesterday}&format=csv")
    assert response.content.decode().splitlines()[1:] == ["btc,0.0,0.0,0.0", "usd,0.0,0.0,0.0"]


def test_balance_sheet_page_shows_the_table_and_an_svg_chart(operator, client, books):
    client.force_login(operator("accountant"))
    response = client.get("/admin/reports/balance-sheet/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<table id="balance-sheet">' in page and "<svg" in page and '<rect class="assets"' in page
    assert '<td class="amount unbalanced">-5.0</td>' in page
    assert "<script" not in page.split('<div class="report"')[1]


def test_income_statement_page_shows_profit_and_chart(operator, client, books):
    client.force_login(operator("compliance"))
    page = client.get("/admin/reports/income-statement/").content.decode()
    assert '<td class="amount">4.5</td>' in page and '<rect class="profit"' in page


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/admin/reports/balance-sheet/?to=2026-02-30", "to: expected a date as YYYY-MM-DD"),
        ("/admin/reports/income-statement/?from=yesterday", "from: expected a date as YYYY-MM-DD"),
        ("/admin/reports/income-statement/?from=2026-03-02&to=2026-03-01", "from (2026-03-02) is after to (2026-03-01)"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_problem(admin_client, path, message):
    response = admin_client.get(path)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("path", ["/admin/reports/balance-sheet/", "/admin/reports/income-statement/?format=csv"])
def test_reports_need_the_view_reports_permission(operator, client, path):
    assert client.get(path).status_code == 302  # anonymous: to the login
    client.force_login(operator("support"))
    assert client.get(path).status_code == 403
    client.force_login(operator("technical"))
    assert client.get(path).status_code == 200


def test_reports_refuse_post(admin_client):
    assert admin_client.post("/admin/reports/balance-sheet/").status_code == 405

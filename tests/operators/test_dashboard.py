"""The admin index as the console's dashboard."""

import json

import pytest

from operators import selectors
from operators.redis_store import redis_client
from tests.factories import CurrencyFactory, DepositFactory, MemberFactory, WithdrawFactory

pytestmark = pytest.mark.django_db


def make_deposits(states):
    member, usd = MemberFactory(), CurrencyFactory()
    for i, state in enumerate(states):
        DepositFactory(member=member, currency=usd, type="fiat", tid=f"TID{i}", amount=10, state=state)


def make_withdraws(states, amount=2000):
    """Withdraws of `amount` each: 2000 is beyond usd's 24 h limit (1000), so an accepted one waits for an operator."""
    member, usd = MemberFactory(), CurrencyFactory()
    for i, state in enumerate(states):
        WithdrawFactory(member=member, currency=usd, type="fiat", tid=f"TIDW{i}", rid="acct", sum=amount,
                        amount=amount, state=state)


def test_counts_per_state_cover_every_state_in_state_machine_order():
    make_deposits(["submitted", "accepted", "accepted"])
    make_withdraws(["accepted", "accepted", "succeed", "errored"])
    assert selectors.deposit_counts_by_state() == [
        ("submitted", 1), ("canceled", 0), ("rejected", 0), ("accepted", 2), ("skipped", 0), ("collected", 0)]
    counts = dict(selectors.withdraw_counts_by_state())
    assert (counts["accepted"], counts["succeed"], counts["errored"], counts["prepared"]) == (2, 1, 1, 0)
    assert len(counts) == 11
    assert selectors.withdraws_waiting_for_operator() == 2


def test_quick_accepted_withdraws_do_not_wait_for_an_operator():
    make_withdraws(["accepted", "accepted"], amount=10)
    assert selectors.withdraws_waiting_for_operator() == 0


def test_dashboard_replaces_the_admin_index(operator, client):
    make_withdraws(["accepted", "accepted", "accepted", "submitted"])
    client.force_login(operator("admin"))
    page = client.get("/admin/").content.decode()
    assert 'id="dashboard"' in page
    assert ('<h2>Withdraws waiting for an operator</h2>\n    <p class="waiting"><a href="/admin/withdraws/withdraw/?waiting=yes"'
            ' id="withdraws-waiting-link">3</a></p>') in page
    assert '<caption>Withdraws by state</caption>' in page and '<caption>Deposits by state</caption>' in page
    assert 'href="/admin/reports/balance-sheet/"' in page
    assert 'id="ledger-last-check"' in page and "<p>never</p>" in page


def test_dashboard_shows_the_last_ledger_check(operator, client):
    redis_client().set(selectors.LEDGER_LAST_CHECK_KEY, json.dumps(
        {"time": "2026-11-23T10:00:00+00:00", "ok": False, "breaches": 3, "currencies": []}))
    client.force_login(operator("support"))
    page = client.get("/admin/").content.decode()
    assert "2026-11-23T10:00:00+00:00" in page and "3 breach(es)" in page and "<p>never</p>" not in page


def test_dashboard_shows_only_what_the_role_may_read(operator, client):
    client.force_login(operator("technical"))
    page = client.get("/admin/").content.decode()
    assert "Deposits by state" not in page and "Withdraws waiting" not in page
    assert 'href="/admin/reports/balance-sheet/"' in page
    client.force_login(operator("support"))
    page = client.get("/admin/").content.decode()
    assert "Deposits by state" in page and 'href="/admin/reports/balance-sheet/"' not in page


def test_a_garbled_last_check_reads_as_never():
    redis_client().set(selectors.LEDGER_LAST_CHECK_KEY, b"{not json")
    assert selectors.ledger_last_check() is None

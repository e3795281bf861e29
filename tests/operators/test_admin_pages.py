"""The console's read pages and the books: member page, waiting withdraws, journals, corrections, transfers,
currencies' wallet settings."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deposits import services as deposit_services
from deposits.models import Deposit
from ledger.models import Account, AccountType, ChartAccount, Operation
from ledger.services import TransferLeg, transfer_create
from operators import selectors
from operators.models import AuditRecord
from operators.services import CONFIRMATION_REFUSED
from peatio_mgmt.nul_bytes import REFUSED
from tests.factories import MarketFactory, MemberFactory, fund_member
from tests.operators.test_admin_actions import token_of, withdraw

pytestmark = pytest.mark.django_db
D = Decimal
CORRECTION = "/admin/ledger/operation/post-correction/"


# members ---------------------------------------------------------------------------------------------------------


def test_member_search_finds_by_uid_ignoring_case_and_by_email(console, member):
    MemberFactory()
    client = console("support")
    for term in (member.uid.lower(), member.email):
        page = client.get("/admin/ledger/member/", {"q": term}).content.decode()
        assert f"/admin/ledger/member/{member.pk}/change/" in page and "1 result" in page


def test_member_page_shows_the_recent_money_read_only_in_a_bounded_number_of_queries(console, usd, member):
    fund_member(member, usd, "1000")
    for i in range(25):
        deposit_services.deposit_create(uid=member.uid, currency=usd, amount=D(i + 1), tid=f"DEP{i:02}",
                                        request_digest="d")
    withdraw(member, usd, "10")
    client = console("admin")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/admin/ledger/member/{member.pk}/change/").content.decode()
    assert len(queries) <= 15  # one LIMITed query per inline, whatever the member's history
    assert "DEP24" in page and "DEP05" in page and "DEP04" not in page  # the 20 most recent deposits
    headings = page.lower()
    assert "deposits (most recent 20)" in headings and "withdraws (most recent 20)" in headings
    assert "liability postings (most recent 20)" in headings and "trades as seller" in headings
    assert "990.0" in page or "990.00" in page  # balance after the withdraw's lock
    assert 'name="accounts-0-balance"' not in page and 'name="_save"' not in page  # view-only for an admin


def test_member_page_lists_the_member_s_trades_on_both_sides(console, usd, btc):
    from tests.trades.conftest import order, trade

    seller, buyer = MemberFactory(), MemberFactory()
    market = MarketFactory(id="btcusd", base_unit=btc, quote_unit=usd)
    trade(7, market, order(11, "ask", market, seller, "2026-11-21T08:00:00Z"),
          order(12, "bid", market, buyer, "2026-11-21T09:00:00Z"), "12.32", "2", "24.64", "2026-11-21T09:00:00Z")
    trade(8, market, order(13, "ask", market, buyer, "2026-11-21T10:00:00Z"),
          order(14, "bid", market, seller, "2026-11-21T09:30:00Z"), "13", "1", "13", "2026-11-21T10:00:00Z")
    page = console("admin").get(f"/admin/ledger/member/{seller.pk}/change/").content.decode()
    sold, bought = page.split("Trades as buyer")
    assert "24.64" in sold and "13.0" not in sold.split("Trades as seller")[1]
    assert "13.0" in bought and "24.64" not in bought


def test_support_sees_the_member_money_without_the_books(console, usd, member):
    fund_member(member, usd, "5")
    page = console("support").get(f"/admin/ledger/member/{member.pk}/change/").content.decode()
    headings = page.lower()
    assert "accounts" in headings and "liability postings" not in headings and "trades as seller" not in headings


# withdraws waiting for an operator ---------------------------------------------------------------------------------


def test_waiting_for_an_operator_lists_accepted_withdraws_outside_the_quick_rule(console, usd):
    member = MemberFactory()
    fund_member(member, usd, "6000")
    big, small, submitted = withdraw(member, usd, "2000"), withdraw(member, usd, "10"), withdraw(member, usd, "3000", state="submitted")
    assert selectors.withdraws_waiting_for_operator_ids() == [big.pk]
    assert selectors.withdraws_waiting_for_operator() == 1
    page = console("support").get("/admin/withdraws/withdraw/", {"waiting": "yes"}).content.decode()
    assert big.tid in page and small.tid not in page and submitted.tid not in page
    assert "Waiting for an operator" in page


# the books ------------------------------------------------------------------------------------------------------


def test_the_journal_filters_by_type_code_currency_reference_and_member(console, usd, btc):
    alice, bob = MemberFactory(), MemberFactory()
    fund_member(alice, usd, "7")
    fund_member(bob, btc, "0.5")
    client = console("accountant")
    url = "/admin/ledger/operation/"
    liabilities = client.get(url, {"type__exact": "liability"}).content.decode()
    assert alice.uid in liabilities and bob.uid in liabilities
    page = client.get(url, {"q": alice.uid.lower()}).content.decode()
    assert alice.uid in page and bob.uid not in page
    page = client.get(url, {"currency__id__exact": "btc", "code__code__exact": "102"}).content.decode()
    assert "btc" in page and alice.uid not in page
    dated = client.get(url, {"created_at__gte": "2000-01-01 00:00:00+00:00", "reference_type__isnull": "True"}).content.decode()
    assert alice.uid in dated and bob.uid in dated
    assert 'id="post-correction"' not in client.get(url).content.decode()  # accountants read, admins correct


def test_a_correction_is_one_posting_through_the_ledger_core_after_a_confirmation(console, usd, member):
    fund_member(member, usd, "100")
    before = Operation.objects.count()
    client = console("admin")
    assert 'id="post-correction"' in client.get("/admin/ledger/operation/").content.decode()
    data = {"code": "201", "currency": "usd", "side": "credit", "amount": "2.5", "uid": member.uid.lower(),
            "reason": "bank fee refunded"}

    page = client.post(CORRECTION, data)
    assert 'id="correction-preview"' in page.content.decode() and '<td class="balance">102.5</td>' in page.content.decode()
    assert Operation.objects.count() == before and not AuditRecord.objects.exists()

    response = client.post(CORRECTION, {**data, "confirm": "yes", "confirmation": token_of(page)})
    assert Operation.objects.count() == before + 1
    operation = Operation.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == f"/admin/ledger/operation/{operation.pk}/change/"
    assert (operation.type, operation.code_id, operation.credit, operation.member) == ("liability", 201, D("2.5"), member)
    assert Account.objects.get(member=member, currency=usd).balance == D("102.5")
    (record,) = AuditRecord.objects.all()
    assert (record.action, record.amount, record.currency_id, record.object_id) == ("post_correction", D("2.5"), "usd", str(operation.pk))
    assert "bank fee refunded" in record.note


def test_a_correction_the_ledger_refuses_writes_nothing(console, usd, member):
    client = console("admin")
    data = {"code": "201", "currency": "usd", "side": "debit", "amount": "5", "uid": member.uid, "reason": "x"}
    assert "Account balance is insufficient" in client.post(CORRECTION, data).content.decode()
    assert "No member has this UID" in client.post(CORRECTION, {**data, "uid": "NOBODY"}).content.decode()
    assert "needs the member" in client.post(CORRECTION, {**data, "uid": ""}).content.decode()
    assert not Operation.objects.exists() and not AuditRecord.objects.exists()


def test_a_platform_correction_needs_no_member(console, usd):
    client = console("admin")
    code = ChartAccount.objects.get(type=AccountType.EXPENSE, currency_type="fiat").code
    data = {"code": code, "currency": "usd", "side": "debit", "amount": "1", "reason": "r"}
    client.post(CORRECTION, {**data, "confirm": "yes", "confirmation": token_of(client.post(CORRECTION, data))})
    (operation,) = Operation.objects.all()
    assert (operation.code_id, operation.debit, operation.member_id) == (code, D(1), None)


def test_a_correction_confirmed_twice_or_changed_after_its_preview_posts_once(console, usd, member):
    fund_member(member, usd, "100")
    before = Operation.objects.count()
    client = console("admin")
    data = {"code": "201", "currency": "usd", "side": "credit", "amount": "0.01", "uid": member.uid, "reason": "r"}
    confirmed = {**data, "confirm": "yes", "confirmation": token_of(client.post(CORRECTION, data))}

    changed = client.post(CORRECTION, {**confirmed, "amount": "0.5"}).content.decode()
    assert CONFIRMATION_REFUSED in changed and Operation.objects.count() == before

    assert client.post(CORRECTION, confirmed).status_code == 302
    assert CONFIRMATION_REFUSED in client.post(CORRECTION, confirmed).content.decode()
    assert Operation.objects.count() == before + 1
    assert Account.objects.get(member=member, currency=usd).balance == D("100.01")


@pytest.mark.parametrize("role", ["accountant", "compliance", "support", "technical"])
def test_only_admins_post_corrections(console, role):
    assert console(role).get(CORRECTION).status_code == 403


def test_a_transfer_page_lists_its_postings(console, usd):
    alice, bob = MemberFactory(), MemberFactory()
    fund_member(alice, usd, "50")
    main = ChartAccount.objects.get(code=201)
    transfer, _ = transfer_create(key=42, kind="referral", desc="payout", legs=[
        TransferLeg(currency=usd, amount=D("12.5"), source=main, destination=main, source_uid=alice.uid,
                    destination_uid=bob.uid)])
    page = console("accountant").get(f"/admin/ledger/transfer/{transfer.pk}/change/").content.decode()
    table = page[page.find("transfer-postings"):]
    assert alice.uid in table and bob.uid in table and table.count("12.5") == 2


# currencies -------------------------------------------------------------------------------------------------------


def test_wallet_settings_are_read_only_without_the_wallet_permission(console, btc):
    url = f"/admin/ledger/currency/{btc.pk}/change/"
    page = console("admin").get(url).content.decode()
    assert 'name="wallet_gateway"' not in page and 'name="wallet_settings"' not in page and 'name="name"' in page
    assert 'name="wallet_gateway"' in console("technical").get(url).content.decode()


def test_a_superadmin_saving_a_member_changes_no_money_even_with_a_forged_balance(console, usd, member):
    fund_member(member, usd, "5")
    client = console("superadmin")
    url = f"/admin/ledger/member/{member.pk}/change/"
    page = client.get(url).content.decode()
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.update({"email": member.email, "level": "4", "role": "member", "state": "active",
                 "accounts-0-balance": "1000000", "_save": "Save"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.level == 4 and Account.objects.get(member=member).balance == D(5)


def test_deposits_filter_by_currency_type_state_and_date(console, usd, btc, member):
    fiat = deposit_services.deposit_create(uid=member.uid, currency=usd, amount=D(5), tid="FIAT-1", request_digest="d")
    coin = deposit_services.deposit_create(uid=member.uid, currency=btc, amount=D(1), tid="COIN-1", request_digest="d")
    deposit_services.deposit_accept(deposit_id=coin.pk)
    client, url = console("compliance"), "/admin/deposits/deposit/"
    for query, shown, hidden in (({"currency__id__exact": "btc"}, coin, fiat), ({"type__exact": "fiat"}, fiat, coin),
                                 ({"state__exact": "accepted"}, coin, fiat)):
        page = client.get(url, query).content.decode()
        assert shown.tid in page and hidden.tid not in page
    today = client.get(url, {"created_at__gte": f"{fiat.created_at.date()} 00:00:00+00:00"}).content.decode()
    future = client.get(url, {"created_at__gte": "2999-01-01 00:00:00+00:00"}).content.decode()
    assert fiat.tid in today and coin.tid in today and fiat.tid not in future


@pytest.mark.parametrize("url", ["/admin/withdraws/withdraw/?state__exact=%00", "/admin/ledger/currency/%00/change/",
                                 "/admin/ledger/member/?group=a%00b"])
def test_a_nul_in_a_console_url_is_a_bad_request(console, url):
    response = console("superadmin").get(url)
    assert (response.status_code, response.content.decode()) == (400, REFUSED)


def test_a_nul_typed_into_a_confirmation_is_a_bad_request_and_changes_nothing(console, usd, member):
    from tests.operators.test_admin_actions import confirmation

    fund_member(member, usd, "5000")
    w = withdraw(member, usd, "2000")
    client = console("admin")
    token = token_of(confirmation(client, "/admin/withdraws/withdraw/", "reject_selected", [w]))
    response = client.post("/admin/withdraws/withdraw/", {"action": "reject_selected", "_selected_action": [w.pk],
                                                          "post": "yes", "confirmation": token, "reason": "a\x00b"})
    assert response.status_code == 400
    w.refresh_from_db()
    assert w.state == "accepted" and not AuditRecord.objects.exists()


@pytest.mark.parametrize("report", ["balance-sheet", "income-statement"])
def test_a_report_ending_on_the_last_day_of_the_calendar_is_a_bad_request(console, report):
    response = console("accountant").get(f"/admin/reports/{report}/", {"to": "9999-12-31"})
    assert response.status_code == 400 and "the last day a report can end on is 9999-12-30" in response.content.decode()


def test_a_date_hierarchy_year_beyond_any_date_is_refused_as_a_filter(console):
    response = console("support").get("/admin/operators/auditrecord/", {"created_at__year": "9" * 20})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("amount", ["١٠", "１０", "1,5", "0x10"])
def test_console_amounts_are_read_with_the_apis_grammar(console, usd, member, amount):
    client = console("admin")
    page = client.post(CORRECTION, {"code": "201", "currency": "usd", "side": "credit", "amount": amount,
                                    "uid": member.uid, "reason": "r"}).content.decode()
    assert "Enter a number." in page and 'id="correction-preview"' not in page
    response = client.post("/admin/deposits/deposit/add/", {"uid": member.uid, "currency": "usd", "amount": amount})
    assert response.status_code == 200 and "Enter a number." in response.content.decode()
    assert not Operation.objects.exists() and not Deposit.objects.exists()

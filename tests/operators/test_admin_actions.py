"""Operators' state-changing actions in the admin: deposits and withdraws moved by the domain services, each with
its confirmation page, its audit record in the same transaction, and every row's outcome reported."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from deposits import services as deposit_services
from deposits.models import Deposit
from ledger.models import Account, Operation
from operators.models import AuditRecord
from operators.services import CONFIRMATION_REFUSED
from tests.factories import MemberFactory, fund_member
from withdraws import services as withdraw_services
from withdraws.services import TXID_REFUSED

pytestmark = pytest.mark.django_db
D = Decimal
DEPOSITS, WITHDRAWS = "/admin/deposits/deposit/", "/admin/withdraws/withdraw/"


# helpers --------------------------------------------------------------------------------------------------------


def confirmation(client, url, action, rows):
    """The confirmation page of `action` on rows (the first POST of an admin action)."""
    return client.post(url, {"action": action, "_selected_action": [r.pk for r in rows], "index": 0})


def token_of(page) -> str:
    """The token a confirmation page carries (operators.services.confirmation_issue), as its form sends it back."""
    match = re.search(r'name="confirmation" value="([^"]+)"', page.content.decode())
    assert match, page.content[:500]
    return match.group(1)


def confirm(client, url, action, rows, **extra):
    """The confirmation page, then its confirming POST, as the console makes them; returns the messages shown on
    the changelist it redirects to."""
    token = token_of(confirmation(client, url, action, rows))
    response = client.post(url, {"action": action, "_selected_action": [r.pk for r in rows], "post": "yes",
                                 "confirmation": token, **extra})
    assert response.status_code == 302, response.content[:500]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    client.get(response["Location"])  # the changelist shows them: the next action starts without
    return shown


def deposit(member, currency, amount="100", tid=None):
    return deposit_services.deposit_create(uid=member.uid, currency=currency, amount=D(amount), tid=tid,
                                           request_digest=f"d-{tid}")


def withdraw(member, currency, amount, *, state="accepted", rid="IBAN-1"):
    """A withdraw of gross `amount`, submitted (funds locked) and moved to `state` by the services."""
    w = withdraw_services.withdraw_create(uid=member.uid, currency=currency, amount=D(amount), rid=rid,
                                          request_digest="d")
    path = {"submitted": [], "accepted": ["accept"], "processing": ["accept", "process"],
            "confirming": ["accept", "process", "dispatch"], "succeed": ["accept", "process", "dispatch", "success"]}
    for event in path[state]:
        txid = f"tx-{w.pk}" if event == "dispatch" and w.type == "coin" else None
        getattr(withdraw_services, f"withdraw_{event}")(withdraw_id=w.pk, txid=txid)
    w.refresh_from_db()
    return w


def funds(member, currency):
    account = Account.objects.get(member=member, currency=currency)
    return account.balance, account.locked


def postings(model_name, row):
    return [(o.type, o.code_id, o.debit, o.credit, o.member_id is not None)
            for o in Operation.objects.filter(reference_type=model_name, reference_id=row.pk).order_by("id")]


def state(row):
    row.refresh_from_db()
    return row.state


def audits(row):
    return list(AuditRecord.objects.filter(object_id=str(row.pk), content_type__model=row._meta.model_name)
                .values_list("action", "from_state", "to_state", "amount", "currency_id").order_by("id"))


@pytest.fixture
def rich(usd):
    """A member with 5000 usd: a withdraw of 2000 is beyond usd's 24 h limit (1000), so not quick."""
    member = MemberFactory()
    fund_member(member, usd, "5000")
    return member


# the permission matrix ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "accountant", "compliance", "technical"])
def test_only_admins_may_approve_a_withdraw_or_accept_a_deposit(console, role, usd, rich):
    client = console(role)
    w, d = withdraw(rich, usd, "2000"), deposit(rich, usd)
    for url, action, row in ((WITHDRAWS, "approve_selected", w), (DEPOSITS, "accept_selected", d)):
        response = client.post(url, {"action": action, "_selected_action": [row.pk], "post": "yes"})
        # technical cannot read the lists (403); the others read them, without the action.
        assert response.status_code == (403 if role == "technical" else 200)
        if role != "technical":
            assert f'value="{action}"' not in response.content.decode()
    assert state(w) == "accepted" and funds(rich, usd) == (D(3000), D(2000))
    assert state(d) == "submitted" and AuditRecord.objects.count() == 0


def test_admins_see_every_action_of_both_lists(console):
    client = console("admin")
    page = client.get(WITHDRAWS).content.decode()
    for action in ("approve", "process", "record_txid", "cancel", "reject", "fail"):
        assert f'value="{action}_selected"' in page
    assert "delete_selected" not in page
    page = client.get(DEPOSITS).content.decode()
    assert all(f'value="{a}_selected"' in page for a in ("accept", "reject", "cancel"))


def test_an_accountant_records_a_fiat_deposit_but_cannot_accept_it(console, usd, member):
    client = console("accountant")
    assert 'href="/admin/deposits/deposit/add/"' in client.get(DEPOSITS).content.decode()
    response = client.post(DEPOSITS + "add/", {"uid": member.uid.lower(), "currency": "usd", "amount": "250.5",
                                               "tid": "BANK-77"})
    d = Deposit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{DEPOSITS}{d.pk}/change/"
    assert (d.tid, d.state, d.amount, d.member) == ("BANK-77", "submitted", D("250.5"), member)
    assert audits(d) == [("create", "", "submitted", D("250.5"), "usd")]
    assert not Account.objects.filter(member=member).exists()  # nothing credited before acceptance

    client.post(DEPOSITS, {"action": "accept_selected", "_selected_action": [d.pk], "post": "yes"})
    assert state(d) == "submitted"


def test_the_deposit_form_offers_fiat_currencies_only_and_shows_the_domain_errors(console, usd, btc, member):
    client = console("accountant")
    page = client.get(DEPOSITS + "add/").content.decode()
    assert '<option value="usd">' in page and 'value="btc"' not in page
    response = client.post(DEPOSITS + "add/", {"uid": member.uid, "currency": "btc", "amount": "1"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(DEPOSITS + "add/", {"uid": "NOBODY", "currency": "usd", "amount": "1"})
    assert "Member must exist" in response.content.decode()
    assert not Deposit.objects.exists() and not AuditRecord.objects.exists()


def test_support_cannot_open_the_deposit_form(console):
    assert console("support").get(DEPOSITS + "add/").status_code == 403


@pytest.mark.parametrize("role", ["superadmin", "admin", "accountant", "technical"])
def test_nobody_can_add_edit_or_delete_a_posting(console, role, usd, member):
    (operation, *_) = fund_member(member, usd, "10")
    client = console(role)
    url = f"/admin/ledger/operation/{operation.pk}/"
    assert client.get("/admin/ledger/operation/add/").status_code == 403
    assert client.post(url + "delete/", {"post": "yes"}).status_code == 403
    response = client.post(url + "change/", {"credit": "1000"})
    assert response.status_code == 403 or 'name="_save"' not in response.content.decode()
    operation.refresh_from_db()
    assert operation.credit == D(10) and Operation.objects.count() == 2


# deposits --------------------------------------------------------------------------------------------------------


def test_accepting_a_deposit_in_the_admin_does_what_the_service_does(console, usd):
    usd.deposit_fee = D("1.5")
    usd.save()
    by_admin, by_api = MemberFactory(), MemberFactory()
    d_admin, d_api = deposit(by_admin, usd, "100", "T1"), deposit(by_api, usd, "100", "T2")
    client = console("admin")

    page = confirmation(client, DEPOSITS, "accept_selected", [d_admin]).content.decode()
    assert by_admin.uid in page and "98.5" in page and "1.5" in page and "accepted" in page
    assert state(d_admin) == "submitted" and not AuditRecord.objects.exists()  # the page changed nothing

    assert confirm(client, DEPOSITS, "accept_selected", [d_admin]) == ["deposit T1: submitted -> accepted"]
    deposit_services.deposit_accept(deposit_id=d_api.pk)
    assert state(d_admin) == state(d_api) == "accepted"
    assert funds(by_admin, usd) == funds(by_api, usd) == (D("98.5"), D(0))
    assert postings("deposit", d_admin) == postings("deposit", d_api) != []
    assert audits(d_admin) == [("accept", "submitted", "accepted", D("98.5"), "usd")]


@pytest.mark.parametrize("action,to_state", [("reject", "rejected"), ("cancel", "canceled")])
def test_rejecting_or_canceling_a_deposit_credits_nobody(console, usd, member, action, to_state):
    d = deposit(member, usd)
    assert confirm(console("admin"), DEPOSITS, f"{action}_selected", [d]) == [f"{d}: submitted -> {to_state}"]
    assert state(d) == to_state and not Operation.objects.exists()
    assert audits(d) == [(action, "submitted", to_state, D(100), "usd")]


def test_a_bulk_accept_reports_each_row_and_refuses_only_the_illegal_one(console, usd, member):
    first, done, last = deposit(member, usd, "10", "A"), deposit(member, usd, "20", "B"), deposit(member, usd, "30", "C")
    deposit_services.deposit_accept(deposit_id=done.pk)
    client = console("admin")
    page = confirmation(client, DEPOSITS, "accept_selected", [first, done, last]).content.decode()
    assert "refused: Cannot accept deposit in state accepted" in page

    messages = confirm(client, DEPOSITS, "accept_selected", [first, done, last])
    assert messages == ["deposit A: submitted -> accepted",
                        "deposit B: accept refused — Cannot accept deposit in state accepted",
                        "deposit C: submitted -> accepted"]
    assert funds(member, usd) == (D(60), D(0))
    assert [a[0] for a in AuditRecord.objects.order_by("id").values_list("action")] == ["accept", "accept"]


def test_the_action_and_its_audit_record_commit_together(console, usd, member, monkeypatch):
    d = deposit(member, usd)
    client = console("admin")

    def broken(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr("deposits.services.audit_record", broken)
    with pytest.raises(RuntimeError):
        confirm(client, DEPOSITS, "accept_selected", [d])
    assert state(d) == "submitted" and not Account.objects.filter(member=member).exists()


# withdraws -------------------------------------------------------------------------------------------------------


def test_approving_a_waiting_fiat_withdraw_pays_it_as_the_quick_api_process_would(console, usd, rich):
    twin = MemberFactory()
    fund_member(twin, usd, "5000")
    w, w_api = withdraw(rich, usd, "2000"), withdraw(twin, usd, "2000")
    client = console("admin")

    page = confirmation(client, WITHDRAWS, "approve_selected", [w]).content.decode()
    for text in (rich.uid, "2000", "0.1", "1999.9", "accepted", "succeed", '<td class="amount balance">3000'):
        assert text in page
    assert state(w) == "accepted"

    assert confirm(client, WITHDRAWS, "approve_selected", [w]) == [f"{w}: accepted -> succeed"]
    for event in ("process", "dispatch", "success"):  # what the API's process does to a quick fiat withdraw
        getattr(withdraw_services, f"withdraw_{event}")(withdraw_id=w_api.pk)
    assert state(w) == state(w_api) == "succeed"
    assert funds(rich, usd) == funds(twin, usd) == (D(3000), D(0))
    assert postings("withdraw", w) == postings("withdraw", w_api)
    assert audits(w) == [("approve", "accepted", "succeed", D(2000), "usd")]


def test_a_coin_withdraw_gets_its_txid_then_is_approved(console, btc, member):
    fund_member(member, btc, "1")
    loaded, dispatched = withdraw(member, btc, "0.5"), withdraw(member, btc, "0.25", state="processing")
    client = console("admin")
    page = confirmation(client, WITHDRAWS, "record_txid_selected", [loaded, dispatched]).content.decode()
    assert f'name="txid-{loaded.pk}"' in page and f'name="txid-{dispatched.pk}"' in page

    messages = confirm(client, WITHDRAWS, "record_txid_selected", [loaded, dispatched],
                       **{f"txid-{loaded.pk}": "aa11", f"txid-{dispatched.pk}": "bb22"})
    assert messages == [f"{loaded}: accepted -> confirming", f"{dispatched}: processing -> confirming"]
    loaded.refresh_from_db(), dispatched.refresh_from_db()
    assert (loaded.txid, dispatched.txid) == ("aa11", "bb22")
    assert audits(loaded) == [("record_txid", "accepted", "confirming", D("0.5"), "btc")]

    assert len(confirm(client, WITHDRAWS, "approve_selected", [loaded, dispatched])) == 2
    assert state(loaded) == state(dispatched) == "succeed"
    assert funds(member, btc) == (D("0.25"), D(0))


def test_approving_a_coin_withdraw_needs_a_txid_and_takes_it_from_the_page(console, btc, member):
    fund_member(member, btc, "1")
    w = withdraw(member, btc, "0.5")
    client = console("admin")
    assert confirm(client, WITHDRAWS, "approve_selected", [w]) == [
        f"{w}: approve refused — Cannot load withdraw without a txid"]
    assert state(w) == "accepted" and funds(member, btc) == (D("0.5"), D("0.5")) and not audits(w)

    assert confirm(client, WITHDRAWS, "approve_selected", [w], **{f"txid-{w.pk}": "cc33"}) == [
        f"{w}: accepted -> succeed"]
    w.refresh_from_db()
    assert (w.state, w.txid) == ("succeed", "cc33") and funds(member, btc) == (D("0.5"), D(0))


def test_recording_a_txid_refuses_fiat_and_a_blank_txid(console, usd, btc, rich):
    fund_member(rich, btc, "1")
    fiat, coin = withdraw(rich, usd, "2000"), withdraw(rich, btc, "0.5")
    messages = confirm(console("admin"), WITHDRAWS, "record_txid_selected", [fiat, coin])
    assert messages == [f"{fiat}: record the txid of refused — A fiat withdraw has no txid",
                        f"{coin}: record the txid of refused — Enter the txid"]
    assert state(fiat) == state(coin) == "accepted"


@pytest.mark.parametrize("txid", ["ü" * 64, "x" * 5000, "aa bb", "a\tb"])
def test_a_txid_that_is_no_chain_s_id_is_refused(console, btc, member, txid):
    fund_member(member, btc, "1")
    w = withdraw(member, btc, "0.5")
    (message,) = confirm(console("admin"), WITHDRAWS, "record_txid_selected", [w], **{f"txid-{w.pk}": txid})
    assert message == f"{w}: record the txid of refused — {TXID_REFUSED}"
    w.refresh_from_db()
    assert (w.state, w.txid) == ("accepted", None) and not audits(w)


def test_a_txid_already_used_is_refused_by_the_database_and_reported(console, btc, member):
    fund_member(member, btc, "1")
    first, second = withdraw(member, btc, "0.5", state="confirming"), withdraw(member, btc, "0.25")
    (message,) = confirm(console("admin"), WITHDRAWS, "record_txid_selected", [second],
                         **{f"txid-{second.pk}": first.txid})
    assert message.startswith(f"{second}: record the txid of refused — Refused by the database: duplicate key")
    second.refresh_from_db()
    assert (second.state, second.txid) == ("accepted", None) and not audits(second)


def test_an_illegal_withdraw_action_shows_the_domain_error_and_changes_nothing(console, usd, rich):
    w = withdraw(rich, usd, "20", state="succeed")
    before = (funds(rich, usd), postings("withdraw", w))
    assert confirm(console("admin"), WITHDRAWS, "cancel_selected", [w]) == [
        f"{w}: cancel refused — Cannot cancel withdraw in state succeed"]
    assert state(w) == "succeed" and (funds(rich, usd), postings("withdraw", w)) == before
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize("action,to_state", [("cancel", "canceled"), ("reject", "rejected")])
def test_cancel_and_reject_return_the_locked_funds(console, usd, rich, action, to_state):
    w = withdraw(rich, usd, "2000")
    assert confirm(console("admin"), WITHDRAWS, f"{action}_selected", [w]) == [f"{w}: accepted -> {to_state}"]
    assert state(w) == to_state and funds(rich, usd) == (D(5000), D(0))
    assert audits(w) == [(action, "accepted", to_state, D(2000), "usd")]


def test_process_then_fail_in_the_admin(console, usd, rich):
    w = withdraw(rich, usd, "2000")
    client = console("admin")
    assert confirm(client, WITHDRAWS, "process_selected", [w]) == [f"{w}: accepted -> processing"]
    assert confirm(client, WITHDRAWS, "fail_selected", [w]) == [f"{w}: processing -> failed"]
    assert funds(rich, usd) == (D(5000), D(0))


@pytest.mark.parametrize("action", ["reject", "fail"])
def test_rejecting_a_confirming_withdraw_needs_the_extra_confirmation(console, btc, member, action):
    fund_member(member, btc, "1")
    w = withdraw(member, btc, "0.5", state="confirming")
    client = console("admin")
    page = confirmation(client, WITHDRAWS, f"{action}_selected", [w]).content.decode()
    assert 'name="confirm_risk"' in page and "may already have left the hot wallet" in page

    (message,) = confirm(client, WITHDRAWS, f"{action}_selected", [w])
    assert message.startswith(f"{w}: {action} refused — The withdraw is confirming")
    assert state(w) == "confirming" and funds(member, btc) == (D("0.5"), D("0.5"))

    confirm(client, WITHDRAWS, f"{action}_selected", [w], confirm_risk="yes")
    assert state(w) == f"{action}ed"
    assert funds(member, btc) == (D(1), D(0))


def test_state_changes_refuse_a_post_without_csrf_token(usd, rich, operator):
    from django.test import Client

    w = withdraw(rich, usd, "2000")
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator("admin"))
    response = client.post(WITHDRAWS, {"action": "approve_selected", "_selected_action": [w.pk], "post": "yes"})
    assert response.status_code == 403 and state(w) == "accepted"


# confirmations bound to their page, used once ---------------------------------------------------------------------


def test_a_confirming_post_without_its_page_does_nothing(console, usd, rich):
    w = withdraw(rich, usd, "2000")
    client = console("admin")
    response = client.post(WITHDRAWS, {"action": "cancel_selected", "_selected_action": [w.pk], "post": "yes"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [CONFIRMATION_REFUSED]
    assert state(w) == "accepted" and not AuditRecord.objects.exists()


def test_a_row_swapped_into_a_confirmation_is_refused(console, usd, rich):
    shown, other = withdraw(rich, usd, "100"), withdraw(rich, usd, "1600")
    client = console("admin")
    token = token_of(confirmation(client, WITHDRAWS, "approve_selected", [shown]))
    response = client.post(WITHDRAWS, {"action": "approve_selected", "_selected_action": [other.pk], "post": "yes",
                                       "confirmation": token})
    assert [str(m) for m in get_messages(response.wsgi_request)] == [CONFIRMATION_REFUSED]
    assert state(other) == "accepted" and state(shown) == "accepted" and not AuditRecord.objects.exists()


def test_a_confirmation_submitted_twice_acts_once(console, usd, rich):
    w = withdraw(rich, usd, "2000")
    client = console("admin")
    data = {"action": "cancel_selected", "_selected_action": [w.pk], "post": "yes",
            "confirmation": token_of(confirmation(client, WITHDRAWS, "cancel_selected", [w]))}
    assert client.post(WITHDRAWS, data).status_code == 302
    second = client.post(WITHDRAWS, data)
    assert [str(m) for m in get_messages(second.wsgi_request)][-1] == CONFIRMATION_REFUSED
    assert state(w) == "canceled" and AuditRecord.objects.count() == 1

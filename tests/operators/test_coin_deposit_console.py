"""The console for coin deposits (domain.md §14.7; scenario D16): accept with a reason (and the risk box below
min_confirmations), reject with a reason, no cancel; deposit addresses; scan cursors and the audited rescan."""

from decimal import Decimal

import pytest

from deposits import services
from deposits.models import Deposit, DepositScanCursor
from deposits.models import DepositState as S
from ledger.models import Account
from operators.models import AuditRecord
from tests.factories import CoinFactory, MemberFactory
from tests.operators.test_admin_actions import confirm, confirmation
from tests.withdraws.fake_bitcoind import FakeBitcoind

pytestmark = pytest.mark.django_db
DEPOSITS = "/admin/deposits/deposit/"


@pytest.fixture
def chain():
    """btc on the bitcoind gateway against the fake node, min_confirmations 12; Alice has an address."""
    with FakeBitcoind() as node:
        btc = CoinFactory(wallet_gateway="bitcoind", wallet_settings={"rpc_url": node.url}, min_confirmations=12)
        alice = MemberFactory()
        address = services.deposit_address_create(uid=alice.uid, currency=btc).address
        services.deposit_scan_currency(currency_id=btc.pk)
        node.mine([(address, "0.5")])
        node.mine()
        services.deposit_scan_currency(currency_id=btc.pk)
        yield node, btc, alice


def test_accepting_a_coin_deposit_at_2_of_12_needs_a_reason_and_the_risk_box(console, chain):
    node, btc, alice = chain
    deposit = Deposit.objects.get()
    assert (deposit.state, deposit.confirmations) == (S.SUBMITTED, 2)
    client = console("admin")
    page = confirmation(client, DEPOSITS, "accept_selected", [deposit]).content.decode()
    assert 'name="reason"' in page and 'id="confirm-risk"' in page
    shown = confirm(client, DEPOSITS, "accept_selected", [deposit], reason="")
    assert "refused" in shown[0] and Deposit.objects.get().state == S.SUBMITTED
    shown = confirm(client, DEPOSITS, "accept_selected", [deposit], reason="customer proved the payment")
    assert "refused" in shown[0] and Deposit.objects.get().state == S.SUBMITTED  # no risk box
    shown = confirm(client, DEPOSITS, "accept_selected", [deposit], reason="customer proved the payment",
                    confirm_risk="yes")
    deposit.refresh_from_db()
    assert deposit.state == S.ACCEPTED, shown
    assert [e["class"] for e in deposit.error] == ["OperatorAccepted"]
    assert Account.objects.get(member=alice, currency=btc).balance == Decimal("0.5")
    record = AuditRecord.objects.get(action="accept")
    assert "customer proved the payment" in record.note and "risk confirmed" in record.note
    for _ in range(12):
        node.mine()
    services.deposit_scan_currency(currency_id=btc.pk)  # later passes never credit again
    assert Account.objects.get(member=alice, currency=btc).balance == Decimal("0.5")


def test_rejecting_a_coin_deposit_needs_a_reason_and_cancel_is_refused(console, chain):
    deposit = Deposit.objects.get()
    client = console("admin")
    shown = confirm(client, DEPOSITS, "cancel_selected", [deposit])
    assert "never canceled" in shown[0]
    confirm(client, DEPOSITS, "reject_selected", [deposit], reason="")
    assert Deposit.objects.get().state == S.SUBMITTED
    confirm(client, DEPOSITS, "reject_selected", [deposit], reason="sanctioned sender")
    deposit.refresh_from_db()
    assert deposit.state == S.REJECTED and deposit.error[-1]["class"] == "OperatorRejected"


def test_lists_and_filters(console, chain):
    node, btc, alice = chain
    client = console("support")
    page = client.get(DEPOSITS + "?chain=awaiting").content.decode()
    assert "2 / 12" in page and Deposit.objects.get().txid in page
    addresses = client.get("/admin/deposits/paymentaddress/?q=" + alice.uid).content.decode()
    assert alice.uid in addresses and "Highest derivation index" not in addresses
    cursors = client.get("/admin/deposits/depositscancursor/").content.decode()
    assert "bitcoind" in cursors


def test_rescan_is_for_wallet_gateway_operators_and_audited(console, chain):
    node, btc, alice = chain
    cursor = DepositScanCursor.objects.get(currency=btc)
    url = f"/admin/deposits/depositscancursor/{btc.pk}/rescan/"
    assert console("support").get(url).status_code == 403
    DepositScanCursor.objects.filter(pk=cursor.pk).update(halted=True, last_error="Reorg deeper than 12 blocks")
    client = console("technical")
    assert "halted" in client.get(url).content.decode()
    response = client.post(url, {"height": cursor.height + 5, "confirm": "on"})
    assert response.status_code == 200 and "between 0 and" in response.content.decode()
    response = client.post(url, {"height": 1, "confirm": "on"})
    assert response.status_code == 302
    cursor.refresh_from_db()
    assert (cursor.height, cursor.halted) == (0, False)
    assert AuditRecord.objects.get(action="rescan").note == "rescan from block 1"
    services.deposit_scan_currency(currency_id=btc.pk)
    assert Deposit.objects.count() == 1


# --- D16: the add form records coin deposits of manual-gateway currencies -------------------------------------------


@pytest.fixture
def xrp(db):
    """A coin currency on the manual gateway (no address, no scan), min_confirmations 6."""
    return CoinFactory(id="xrp", name="Ripple", wallet_gateway="manual", address_format=None, min_confirmations=6)


def _record(client, member, currency="xrp", amount="12.5", txid="TX-ABC", txout="", address="rAliceManual1"):
    return client.post(DEPOSITS + "add/", {"uid": member.uid.lower(), "currency": currency, "amount": amount,
                                           "txid": txid, "txout": txout, "address": address})


def test_an_admin_records_a_manual_coin_deposit_then_accepts_it_with_the_existing_action(console, xrp, usd):
    from ledger.models import Operation

    alice = MemberFactory()
    client = console("admin")
    page = client.get(DEPOSITS + "add/").content.decode()
    assert '<option value="xrp">' in page and '<option value="usd">' in page and 'name="txid"' in page
    response = _record(client, alice)
    deposit = Deposit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{DEPOSITS}{deposit.pk}/change/"
    assert (deposit.type, deposit.state, deposit.amount, deposit.fee, deposit.member) == (
        "coin", S.SUBMITTED, Decimal("12.5"), Decimal("0"), alice)
    assert (deposit.txid, deposit.txout, deposit.address, deposit.confirmations) == ("TX-ABC", 0, "rAliceManual1", 0)
    assert deposit.tid and deposit.block_number is None
    record = AuditRecord.objects.get(action="create")
    assert (record.object_id, record.to_state, record.amount, record.currency_id) == (
        str(deposit.pk), "submitted", Decimal("12.5"), "xrp")
    assert "TX-ABC:0" in record.note and record.actor_email == "admin.console@example.com"
    assert not Account.objects.filter(member=alice).exists()  # nothing credited before acceptance

    # a duplicate (currency, txid, txout) is refused, with no row and no audit record
    response = _record(client, alice, amount="1", txout="0")
    assert response.status_code == 200 and "Txid has already been taken" in response.content.decode()
    assert Deposit.objects.count() == 1 and AuditRecord.objects.count() == 1
    # another output of the same transaction is another deposit
    response = _record(client, alice, amount="1", txout="1")
    assert response.status_code == 302 and Deposit.objects.count() == 2
    client.get(response["Location"])  # shows the success message

    # accepted with the existing action: a reason, and the risk box (0 of 6 confirmations)
    shown = confirm(client, DEPOSITS, "accept_selected", [deposit], reason="bank of the ledger confirmed it")
    assert "refused" in shown[0] and Deposit.objects.get(pk=deposit.pk).state == S.SUBMITTED
    confirm(client, DEPOSITS, "accept_selected", [deposit], reason="ledger confirmed it", confirm_risk="yes")
    deposit.refresh_from_db()
    assert deposit.state == S.ACCEPTED and deposit.completed_at is not None
    assert [e["class"] for e in deposit.error] == ["OperatorAccepted"]
    assert Account.objects.get(member=alice, currency=xrp).balance == Decimal("12.5")
    postings = [(o.code_id, o.debit, o.credit, o.member_id) for o in
                Operation.objects.filter(reference_type="deposit", reference_id=deposit.pk).order_by("id")]
    assert postings == [(102, 0, Decimal("12.5"), None), (202, 0, Decimal("12.5"), alice.pk)]
    assert "ledger confirmed it" in AuditRecord.objects.get(action="accept").note


def test_the_form_checks_coin_fields_and_the_service_rules(console, xrp, usd):
    alice = MemberFactory()
    client = console("admin")
    page = _record(client, alice, txid="", address="").content.decode()
    assert page.count("This field is required for a coin deposit.") == 2
    page = client.post(DEPOSITS + "add/", {"uid": alice.uid, "currency": "xrp", "amount": "1", "txid": "T",
                                           "address": "r1", "tid": "MINE"}).content.decode()
    assert "TID is generated" in page
    page = client.post(DEPOSITS + "add/", {"uid": alice.uid, "currency": "usd", "amount": "1", "txid": "T"}).content
    assert "Only for coin deposits" in page.decode()
    assert "Member must exist" in _record(client, MemberFactory.build(uid="UNOBODY")).content.decode()
    assert "Amount must be greater than 0.0" in _record(client, alice, amount="0").content.decode()
    assert not Deposit.objects.exists() and not AuditRecord.objects.exists()
    # a fiat deposit still records as before
    response = client.post(DEPOSITS + "add/", {"uid": alice.uid, "currency": "usd", "amount": "5", "tid": "B-1"})
    assert response.status_code == 302 and Deposit.objects.get().type == "fiat"


def test_the_service_refuses_a_non_manual_coin_currency(xrp, btc, member):
    from peatio_mgmt.errors import BusinessRuleError

    with pytest.raises(BusinessRuleError, match="Currency does not accept manual coin deposits"):
        services.deposit_record_coin(uid=member.uid, currency=btc, amount=Decimal("1"), txid="T", address="a")
    deposit = services.deposit_record_coin(uid=member.uid, currency=xrp, amount=Decimal("1"), txid="T", address="a")
    assert (deposit.state, deposit.txout) == (S.SUBMITTED, 0)
    with pytest.raises(BusinessRuleError, match="Txid has already been taken"):
        services.deposit_record_coin(uid=member.uid, currency=xrp, amount=Decimal("2"), txid="T", address="a")


def test_non_manual_coin_currencies_are_not_offered(console, xrp, btc, usd, member):
    client = console("superadmin")
    page = client.get(DEPOSITS + "add/").content.decode()
    assert '<option value="xrp">' in page and 'value="btc"' not in page
    response = _record(client, member, currency="btc")
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Deposit.objects.exists()


def test_an_accountant_is_offered_fiat_currencies_only(console, xrp, usd, member):
    """The accountant's deposits.add_deposit is "create fiat deposits" (operators.roles): no coin currency, no
    coin fields; a coin currency posted anyway is not a valid choice."""
    client = console("accountant")
    page = client.get(DEPOSITS + "add/").content.decode()
    assert '<option value="usd">' in page and 'value="xrp"' not in page and 'name="txid"' not in page
    assert "Record a fiat deposit" in page
    response = _record(client, member)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Deposit.objects.exists() and not AuditRecord.objects.exists()


@pytest.mark.parametrize("role", ["support", "compliance", "technical"])
def test_roles_without_add_deposit_cannot_record(console, xrp, member, role):
    client = console(role)
    assert client.get(DEPOSITS + "add/").status_code == 403
    assert _record(client, member).status_code == 403
    assert not Deposit.objects.exists()

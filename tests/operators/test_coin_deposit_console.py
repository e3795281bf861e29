"""The console for coin deposits (domain.md §14.7; scenario D16): accept with a reason (and the risk box below
min_confirmations), reject with a reason, no cancel; deposit addresses; scan cursors and the audited rescan."""

from decimal import Decimal

import pytest

from deposits import services
from deposits.models import Deposit, DepositScanCursor, DepositState as S
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

"""Coin deposit events (coin-deposits-ethereum-events.md Part D §V 15): detection -> created; confirmation changes
and reorgs -> none; accept -> updated, with blockchain_confirmations among the changes."""

import pytest

from deposits import services
from tests.events.conftest import sequenced
from tests.factories import CoinFactory, MemberFactory
from tests.withdraws.fake_bitcoind import FakeBitcoind

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart")]


def test_detection_confirmations_and_accept():
    with FakeBitcoind() as node:
        btc = CoinFactory(wallet_gateway="bitcoind", wallet_settings={"rpc_url": node.url}, min_confirmations=3)
        alice = MemberFactory()
        address = services.deposit_address_create(uid=alice.uid, currency=btc).address
        services.deposit_scan_currency(currency_id=btc.pk)
        node.mine([(address, "0.5")])
        services.deposit_scan_currency(currency_id=btc.pk)
        (created,) = sequenced()
        assert created["name"] == "model.deposit.created"
        assert (created["record"]["state"], created["record"]["blockchain_confirmations"]) == ("submitted", "1")
        node.mine()
        services.deposit_scan_currency(currency_id=btc.pk)
        assert len(sequenced()) == 1  # a confirmation change is not an event
        node.mine()
        services.deposit_scan_currency(currency_id=btc.pk)
        created, accepted = sequenced()
    assert accepted["record"]["state"] == "accepted"
    assert accepted["changes"] == {"state": "submitted", "completed_at": None, "blockchain_confirmations": "2"}

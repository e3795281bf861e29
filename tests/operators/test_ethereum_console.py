"""The console and the ethereum gateway (domain.md §15.6; scenario E14): reject or fail of a confirming ethereum
withdraw is refused, per row in the confirmation preview and on the confirming POST, until the gateway's
confirmations answer FAILED; the risk box alone no longer lets it through."""

from decimal import Decimal

import pytest

from operators.models import AuditRecord
from tests.anvil import DEV_KEYS
from tests.factories import MemberFactory, fund_member
from tests.operators.test_admin_actions import WITHDRAWS, confirm, confirmation
from tests.withdraws.conftest import funds
from withdraws import services
from withdraws.gateways.ethereum import ethereum_transaction_broadcast
from withdraws.models import EthereumTransaction, Withdraw
from withdraws.models import WithdrawState as S

pytestmark = pytest.mark.django_db
RECIPIENT = DEV_KEYS[9][0]


@pytest.fixture
def confirming(anvil, eth):
    """A 0.05 eth withdraw signed and broadcast with automine off: pending in the node's pool."""
    anvil.rpc("evm_setAutomine", False)
    bob = MemberFactory()
    fund_member(bob, eth, "1")
    withdraw = services.withdraw_create(uid=bob.uid, currency=eth, amount=Decimal("0.05"), rid=RECIPIENT,
                                        request_digest="d")
    for event in ("accept", "process", "send"):
        getattr(services, f"withdraw_{event}")(withdraw_id=withdraw.pk)
    withdraw.refresh_from_db()
    assert withdraw.state == S.CONFIRMING
    ethereum_transaction_broadcast(transaction_id=EthereumTransaction.objects.get(withdraw=withdraw).pk)
    return withdraw, bob


@pytest.mark.parametrize("action", ["reject", "fail"])
def test_a_transaction_that_can_still_be_mined_refuses_reject_and_fail(console, anvil, eth, confirming, action):
    withdraw, bob = confirming
    client = console("admin")
    page = confirmation(client, WITHDRAWS, f"{action}_selected", [withdraw]).content.decode()
    assert f"refused: {services.STILL_MINEABLE}" in page
    (shown,) = confirm(client, WITHDRAWS, f"{action}_selected", [withdraw], confirm_risk="yes")
    assert shown == f"{withdraw}: {action} refused — {services.STILL_MINEABLE}"

    anvil.rpc("evm_mine")  # mined, below min_confirmations: still refused
    (shown,) = confirm(client, WITHDRAWS, f"{action}_selected", [withdraw], confirm_risk="yes")
    assert shown.endswith(services.STILL_MINEABLE)
    assert Withdraw.objects.get(pk=withdraw.pk).state == S.CONFIRMING
    assert funds(bob, eth) == (Decimal("0.95"), Decimal("0.05")) and not AuditRecord.objects.exists()


@pytest.mark.parametrize("action", ["reject", "fail"])
def test_allowed_once_the_gateway_answers_failed(console, anvil, eth, confirming, action):
    withdraw, bob = confirming
    anvil.rpc("anvil_setCode", RECIPIENT, "0x60006000fd")
    anvil.rpc("evm_mine")  # receipt status 0x0: FAILED
    client = console("admin")
    page = confirmation(client, WITHDRAWS, f"{action}_selected", [withdraw]).content.decode()
    assert services.STILL_MINEABLE not in page and 'id="confirm-risk"' in page
    (shown,) = confirm(client, WITHDRAWS, f"{action}_selected", [withdraw], confirm_risk="yes")
    assert shown == f"{withdraw}: confirming -> {action}ed"
    assert funds(bob, eth) == (Decimal(1), Decimal(0))
    assert AuditRecord.objects.get().action == action


def test_a_node_that_does_not_answer_refuses_too(console, anvil, eth, confirming):
    withdraw, _ = confirming
    eth.wallet_settings = {**eth.wallet_settings, "rpc_url": "http://127.0.0.1:9/"}
    eth.save()
    (shown,) = confirm(console("admin"), WITHDRAWS, "fail_selected", [withdraw], confirm_risk="yes")
    assert f"refused — {services.STILL_MINEABLE} (the node did not answer" in shown
    assert Withdraw.objects.get(pk=withdraw.pk).state == S.CONFIRMING


TRANSACTIONS = "/admin/withdraws/ethereumtransaction/"


@pytest.mark.parametrize("role", ["admin", "accountant", "compliance", "support"])
def test_signed_transactions_are_listed_read_only_with_a_stuck_filter(console, anvil, eth, confirming, role):
    from datetime import timedelta

    from django.utils import timezone

    withdraw, _ = confirming
    row = EthereumTransaction.objects.get()
    client = console(role)
    page = client.get(TRANSACTIONS).content.decode()
    assert row.hash in page and withdraw.tid in page and row.raw not in page
    assert row.hash not in client.get(TRANSACTIONS + "?stuck=yes").content.decode()  # signed just now
    assert row.hash in client.get(TRANSACTIONS + "?stuck=unmined").content.decode()
    EthereumTransaction.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert row.hash in client.get(TRANSACTIONS + "?stuck=yes").content.decode()
    anvil.rpc("evm_mine")
    services.withdraw_confirm()
    assert row.hash not in client.get(TRANSACTIONS + "?stuck=yes").content.decode()
    detail = client.get(f"{TRANSACTIONS}{row.pk}/change/")
    assert detail.status_code == 200 and row.raw not in detail.content.decode()
    assert client.get(f"{TRANSACTIONS}add/").status_code == 403
    assert client.post(f"{TRANSACTIONS}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert EthereumTransaction.objects.filter(pk=row.pk).exists()


def test_technical_does_not_see_signed_transactions(console, eth):
    assert console("technical").get(TRANSACTIONS).status_code == 403


# §15.1 on saving a currency in the admin --------------------------------------------------------------------------


def currency_post(currency, **changes):
    """The change form's fields as the page would post them, with `changes`."""
    import json

    from django.forms.models import model_to_dict

    from ledger.currency_form import CurrencyForm

    data = {name: value for name, value in model_to_dict(currency, fields=list(CurrencyForm.base_fields)).items()
            if value is not None}
    data["wallet_settings"] = json.dumps(data.get("wallet_settings") or {})
    data["options"] = json.dumps(data.get("options") or {})
    data = {name: ("on" if value is True else value) for name, value in data.items() if value is not False}
    return {**data, **changes, "_save": "Save"}


def test_saving_an_ethereum_currency_runs_the_seeds_checks(console, db):
    import json

    from tests.anvil import TEST_XPUB
    from tests.factories import CoinFactory, EtherFactory

    good = {"rpc_url": "http://127.0.0.1:8545", "chain_id": 31337, "deposit_xpub": TEST_XPUB}
    EtherFactory(id="etc", wallet_settings=good)
    eth = EtherFactory(wallet_settings={"rpc_url": "http://127.0.0.1:8545", "chain_id": 31337})
    client, url = console("technical"), f"/admin/ledger/currency/{eth.pk}/change/"
    bad = {"rpc_url": "ftp://node", "chain_id": 0, "hot_wallet_address": "0x12", "deposit_xpub": TEST_XPUB}
    response = client.post(url, currency_post(eth, wallet_settings=json.dumps(bad), base_factor=10**8))
    page = response.content.decode()
    assert response.status_code == 200  # the form again, with the errors
    for message in ("the ethereum gateway requires an http(s) rpc_url", "requires a positive integer chain_id",
                    "hot_wallet_address must be 0x and 40 hex digits", "deposit_xpub is already used by etc",
                    "the ethereum gateway requires base_factor 10^18"):
        assert message in page, message
    eth.refresh_from_db()
    assert eth.wallet_settings == {"rpc_url": "http://127.0.0.1:8545", "chain_id": 31337} and eth.base_factor == 10**18

    xprv = {**good, "deposit_xpub": "xprv" + TEST_XPUB[4:]}
    assert "deposit_xpub must be an extended public key" in client.post(
        url, currency_post(eth, wallet_settings=json.dumps(xprv))).content.decode()
    fine = {**good, "deposit_xpub": None, "hot_wallet_address": "0x" + "ab" * 20}
    fine.pop("deposit_xpub")
    response = client.post(url, currency_post(eth, wallet_settings=json.dumps(fine)))
    assert response.status_code == 302, response.content.decode()[:3000]
    eth.refresh_from_db()
    assert eth.wallet_settings == fine

    btc = CoinFactory()  # another gateway: not checked
    assert client.post(f"/admin/ledger/currency/{btc.pk}/change/", currency_post(btc)).status_code == 302


@pytest.mark.parametrize("changes, message", [
    ({"options": "[1, 2]"}, "options must be a mapping (a JSON object), as in the seed format"),
    ({"wallet_settings": '"x"'}, "wallet_settings must be a mapping (a JSON object), as in the seed format"),
    ({"icon_url": "javascript:alert(1)"}, "icon_url must be an http(s) address"),
])
def test_the_currency_form_refuses_what_the_seed_format_forbids(console, db, changes, message):
    from tests.factories import CoinFactory

    btc = CoinFactory()
    response = console("superadmin").post(f"/admin/ledger/currency/{btc.pk}/change/", currency_post(btc, **changes))
    assert response.status_code == 200 and message in response.content.decode()

"""Faults of the ethereum send (domain.md §15.5; scenarios E2, E3): a real Celery worker SIGKILLed while the
broadcast is on its way to the node (after the signed bytes committed), and while the send is still preparing
inside its transaction (before anything is signed or stored). A proxy in front of the real anvil node holds the
chosen JSON-RPC method so the kill lands exactly there. Either way the withdraw is paid exactly once."""

from __future__ import annotations

import json
import threading
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.anvil import DEV_KEYS, HOT_ADDRESS
from tests.factories import MemberFactory, fund_member
from tests.faults.conftest import assert_books_clean, wait_for
from withdraws import services
from withdraws.models import EthereumTransaction, Withdraw
from withdraws.models import WithdrawState as S

pytestmark = pytest.mark.django_db(transaction=True)
RECIPIENT = DEV_KEYS[9][0]


class HoldingProxy:
    """Forwards JSON-RPC to the node; a call of `hold` is parked (never forwarded) until `release` is set."""

    def __init__(self, target: str):
        self.hold: str | None = None
        self.hold_param: str | None = None  # when set, only the call of `hold` whose first parameter this is
        self.entered = threading.Event()
        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                call = json.loads(raw)
                if call.get("method") == proxy.hold and proxy.hold_param in (None, (call.get("params") or [None])[0]):
                    proxy.entered.set()
                    proxy.release.wait(60)
                    return  # the caller was killed meanwhile: nothing is forwarded
                request = urllib.request.Request(target, data=raw, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    body = response.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, client_address: None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxied_eth(anvil, eth, eth_settings):
    proxy = HoldingProxy(anvil.url)
    eth.wallet_settings = {**eth_settings, "rpc_url": proxy.url}
    eth.min_confirmations = 1
    eth.save()
    yield eth, proxy
    proxy.close()


def quick_withdraw(currency) -> Withdraw:
    member = MemberFactory()
    fund_member(member, currency, "1")
    withdraw = services.withdraw_create(uid=member.uid, currency=currency, amount=Decimal("0.05"), rid=RECIPIENT,
                                        request_digest="d")
    services.withdraw_accept(withdraw_id=withdraw.pk)
    services.withdraw_process(withdraw_id=withdraw.pk)  # queues the send on commit
    return withdraw


def test_worker_killed_between_commit_and_broadcast_pays_once(anvil, proxied_eth, workers):
    eth, proxy = proxied_eth
    before = anvil.balance(RECIPIENT)
    proxy.hold = "eth_sendRawTransaction"
    first = workers.start()
    withdraw = quick_withdraw(eth)
    assert proxy.entered.wait(60), first.output()
    first.kill()
    withdraw.refresh_from_db()
    row = EthereumTransaction.objects.get(withdraw=withdraw)
    assert withdraw.state == S.CONFIRMING and withdraw.txid == row.hash  # signed bytes committed before the kill
    assert anvil.rpc("eth_getTransactionByHash", row.hash) is None  # and never reached the node
    assert_books_clean()

    proxy.hold = None
    services.withdraw_confirm()  # the confirm pass finds the hash unknown and broadcasts the stored bytes
    anvil.receipt(row.hash)
    second = workers.start()  # the killed broadcast task is redelivered: the same bytes again, harmlessly
    wait_for(lambda: EthereumTransaction.objects.get(pk=row.pk).broadcasts >= 2, 30, what=second.output())
    services.withdraw_confirm()
    withdraw.refresh_from_db()
    assert withdraw.state == S.SUCCEED
    assert anvil.balance(RECIPIENT) - before == 5 * 10**16 and anvil.nonce(HOT_ADDRESS) == 1
    assert_books_clean()


def test_worker_killed_inside_the_send_transaction_leaves_no_row_and_no_nonce(anvil, proxied_eth, workers):
    eth, proxy = proxied_eth
    before = anvil.balance(RECIPIENT)
    proxy.hold = "eth_getTransactionCount"  # the last call of the preparation, inside the send's transaction
    first = workers.start()
    withdraw = quick_withdraw(eth)
    assert proxy.entered.wait(60), first.output()
    first.kill()
    withdraw.refresh_from_db()
    assert withdraw.state == S.PROCESSING and withdraw.txid is None
    assert EthereumTransaction.objects.count() == 0 and anvil.nonce(HOT_ADDRESS, "pending") == 0
    assert_books_clean()

    proxy.hold = None
    second = workers.start()  # the send task is redelivered (acknowledged late) and signs nonce 0
    wait_for(lambda: EthereumTransaction.objects.filter(withdraw=withdraw, broadcasts__gte=1).exists(), 60,
             what=second.output())
    row = EthereumTransaction.objects.get(withdraw=withdraw)
    anvil.receipt(row.hash)
    services.withdraw_confirm()
    withdraw.refresh_from_db()
    assert withdraw.state == S.SUCCEED and row.nonce == 0
    assert anvil.balance(RECIPIENT) - before == 5 * 10**16 and anvil.nonce(HOT_ADDRESS) == 1
    assert_books_clean()

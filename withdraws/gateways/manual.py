"""The `manual` gateway: operators send the coins and record the txid; the workers never send."""

from withdraws.gateways import FAILED, UNKNOWN, WalletGateway


class ManualGateway(WalletGateway):
    sends = False

    def __init__(self, settings: dict):
        self.settings = settings

    def hot_wallet_balance(self, currency):
        return None

    def send(self, currency, address, amount, reference):
        raise NotImplementedError("the manual gateway never sends: an operator pays and records the txid")

    def find_transaction(self, currency, reference):
        return UNKNOWN

    def confirmations(self, currency, txid):
        return FAILED if not txid else 0

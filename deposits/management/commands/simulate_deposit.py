"""`manage.py simulate_deposit CURRENCY ADDRESS AMOUNT [--txid HEX]`: a transfer on the simulated gateway's chain
(domain.md §14.4), in block head + 1; prints its txid. The scanner then finds and accepts it like any other."""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from ledger.models import Currency
from withdraws.gateways import GatewayError, gateway_for


class Command(BaseCommand):
    help = "Put a transfer to ADDRESS on the simulated chain of CURRENCY and print its txid."

    def add_arguments(self, parser):
        parser.add_argument("currency")
        parser.add_argument("address")
        parser.add_argument("amount")
        parser.add_argument("--txid")

    def handle(self, *args, currency, address, amount, txid=None, **options):
        row = Currency.objects.filter(pk=currency.lower(), wallet_gateway="simulated").first()
        if row is None:
            raise CommandError(f"{currency} is not a currency of the simulated gateway")
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise CommandError(f"{amount} is not a decimal amount") from None
        try:
            self.stdout.write(gateway_for(row).add_transfer(row, address, value, txid))
        except GatewayError as error:
            raise CommandError(str(error)) from error

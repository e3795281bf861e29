"""The admin's currency form: saving an ethereum-gateway currency runs the checks of domain.md §15.1 — the seed's
own function (ledger.seed.services), so the console and the seed refuse the same settings with the same words."""

from django import forms

from ledger.models import Currency, WalletGateway


class CurrencyForm(forms.ModelForm):
    class Meta:
        model = Currency
        fields = "__all__"

    def _post_clean(self):
        super()._post_clean()  # the instance now holds what would be saved (read-only fields keep their values)
        if self.instance.wallet_gateway != WalletGateway.ETHEREUM:
            return
        from ledger.seed.services import _ethereum_problems

        for field, message in _ethereum_problems(self.instance):
            self.add_error(field if field in self.fields else None, message)

"""The admin's currency form: saving an ethereum-gateway currency runs the checks of domain.md §15.1 — the function
the seed command (seeding.services) runs too, so the console and the seed refuse the same settings with the same
words."""

import re

from django import forms
from django.core.validators import URLValidator

from ledger.models import Currency, CurrencyType, WalletGateway


def ethereum_problems(currency: Currency) -> list[tuple[str, str]]:
    """The checks of domain.md §15.1 on saving an ethereum-gateway currency."""
    settings_ = currency.wallet_settings or {}
    problems = []
    if currency.type != CurrencyType.COIN:
        problems.append(("type", "the ethereum gateway requires a coin currency"))
    if currency.address_format != "ethereum":
        problems.append(("address_format", "the ethereum gateway requires address_format ethereum"))
    if currency.base_factor != 10**18:
        problems.append(("base_factor", "the ethereum gateway requires base_factor 10^18"))
    if not str(settings_.get("rpc_url", "")).startswith(("http://", "https://")):
        problems.append(("wallet_settings", "the ethereum gateway requires an http(s) rpc_url"))
    chain_id = settings_.get("chain_id")
    if not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id <= 0:
        problems.append(("wallet_settings", "the ethereum gateway requires a positive integer chain_id"))
    hot = settings_.get("hot_wallet_address")
    if hot is not None and not re.fullmatch(r"0x[0-9a-fA-F]{40}", str(hot)):
        problems.append(("wallet_settings", "hot_wallet_address must be 0x and 40 hex digits"))
    xpub = settings_.get("deposit_xpub")
    if xpub is not None:
        if not str(xpub).startswith(("xpub", "tpub")):
            problems.append(("wallet_settings", "deposit_xpub must be an extended public key (xpub)"))
        else:
            other = (Currency.objects.filter(wallet_settings__deposit_xpub=xpub).exclude(pk=currency.pk)
                     .values_list("pk", flat=True).first())
            if other:
                problems.append(("wallet_settings", f"deposit_xpub is already used by {other}"))
    return problems


class CurrencyForm(forms.ModelForm):
    class Meta:
        model = Currency
        fields = "__all__"

    def _mapping(self, name: str) -> dict:
        value = self.cleaned_data.get(name)
        if value is not None and not isinstance(value, dict):
            raise forms.ValidationError(f"{name} must be a mapping (a JSON object), as in the seed format")
        return value if value is not None else {}

    def clean_options(self):
        return self._mapping("options")

    def clean_wallet_settings(self):
        return self._mapping("wallet_settings")

    def clean_icon_url(self):
        # served to partners by /currencies/get and shown by their pages: a web address, never `javascript:`
        url = self.cleaned_data.get("icon_url")
        if url:
            URLValidator(schemes=["http", "https"], message="icon_url must be an http(s) address")(url)
        return url

    def _post_clean(self):
        super()._post_clean()  # the instance now holds what would be saved (read-only fields keep their values)
        if self.instance.wallet_gateway != WalletGateway.ETHEREUM:
            return
        for field, message in ethereum_problems(self.instance):
            self.add_error(field if field in self.fields else None, message)

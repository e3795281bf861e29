from ledger.api.accounts import AccountViewSet
from ledger.api.currencies import CurrencyViewSet
from ledger.api.journals import AssetViewSet, ExpenseViewSet, LiabilityViewSet, RevenueViewSet
from ledger.api.members import MemberViewSet
from ledger.api.transfers import TransferViewSet
from peatio_mgmt.management_api.views import route

urlpatterns = [
    route("accounts/balance", AccountViewSet, "post", "balance"),
    route("accounts/balances", AccountViewSet, "post", "balances"),
    route("members", MemberViewSet, "post", "new"),
    route("members/get", MemberViewSet, "post", "get_by_uid"),
    route("members/update", MemberViewSet, "put", "edit"),
    route("currencies/list", CurrencyViewSet, "post", "list"),
    route("currencies/get", CurrencyViewSet, "post", "get_by_code"),
    route("transfers/new", TransferViewSet, "post", "new"),
]
for prefix, viewset in (("assets", AssetViewSet), ("expenses", ExpenseViewSet), ("revenues", RevenueViewSet),
                        ("liabilities", LiabilityViewSet)):
    urlpatterns += [route(prefix, viewset, "post", "list"), route(f"{prefix}/new", viewset, "post", "new")]

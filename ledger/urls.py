from ledger.api.accounts import AccountViewSet
from ledger.api.journals import AssetViewSet, ExpenseViewSet, LiabilityViewSet, RevenueViewSet
from ledger.api.transfers import TransferViewSet
from peatio_mgmt.management_api.views import route

urlpatterns = [
    route("accounts/balance", AccountViewSet, "post", "balance"),
    route("transfers/new", TransferViewSet, "post", "new"),
]
for prefix, viewset in (("assets", AssetViewSet), ("expenses", ExpenseViewSet), ("revenues", RevenueViewSet),
                        ("liabilities", LiabilityViewSet)):
    urlpatterns += [route(prefix, viewset, "post", "list"), route(f"{prefix}/new", viewset, "post", "new")]

from deposits.api import DepositAddressViewSet, DepositViewSet
from peatio_mgmt.management_api.views import route

urlpatterns = [
    route("deposits", DepositViewSet, "post", "list"),
    route("deposits/get", DepositViewSet, "post", "get_by_tid"),
    route("deposits/new", DepositViewSet, "post", "new"),
    route("deposits/state", DepositViewSet, "put", "state"),
    route("deposit_address/new", DepositAddressViewSet, "post", "new"),
]

from peatio_mgmt.management_api.views import route
from withdraws.api import WithdrawViewSet

urlpatterns = [
    route("withdraws", WithdrawViewSet, "post", "list"),
    route("withdraws/get", WithdrawViewSet, "post", "get_by_tid"),
    route("withdraws/new", WithdrawViewSet, "post", "new"),
    route("withdraws/action", WithdrawViewSet, "put", "apply_action"),
]

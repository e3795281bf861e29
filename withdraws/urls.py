from peatio_mgmt.management_api.views import route
from withdraws.api import BeneficiaryViewSet, WithdrawViewSet

urlpatterns = [
    route("withdraws", WithdrawViewSet, "post", "list"),
    route("withdraws/get", WithdrawViewSet, "post", "get_by_tid"),
    route("withdraws/new", WithdrawViewSet, "post", "new"),
    route("withdraws/action", WithdrawViewSet, "put", "apply_action"),
    route("beneficiaries", BeneficiaryViewSet, "post", "list"),
    route("beneficiaries/new", BeneficiaryViewSet, "post", "new"),
    route("beneficiaries/state", BeneficiaryViewSet, "put", "change_state"),
]

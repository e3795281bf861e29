from peatio_mgmt.management_api.views import route
from trades.api import TradeViewSet

urlpatterns = [route("trades", TradeViewSet, "post", "list")]

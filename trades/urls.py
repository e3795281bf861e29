from peatio_mgmt.management_api.views import route
from trades.api import MarketViewSet, TradeViewSet

urlpatterns = [
    route("trades", TradeViewSet, "post", "list"),
    route("markets/list", MarketViewSet, "post", "list"),
    route("markets/get", MarketViewSet, "post", "get_by_symbol"),
]

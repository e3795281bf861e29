"""Everything under /api/v2/management/: the apps' routes, the OpenAPI document, and 404 for any other path.

The patterns carry the whole path (`views.route`) and are listed flat in the root URLconf: one pattern per route,
no nested resolvers per request. The most requested routes come first.
"""

from django.urls import path, re_path

from deposits.urls import urlpatterns as deposits
from ledger.urls import urlpatterns as ledger
from peatio_mgmt.management_api.schema import swagger
from peatio_mgmt.management_api.tools import ToolViewSet
from peatio_mgmt.management_api.views import PREFIX, UnknownRoute, route
from trades.urls import urlpatterns as trades
from withdraws.urls import urlpatterns as withdraws

urlpatterns = [
    route("timestamp", ToolViewSet, "post", "timestamp"),
    *ledger,
    *deposits,
    *withdraws,
    *trades,
    path(PREFIX[1:] + "swagger", swagger),
    re_path("^" + PREFIX[1:], UnknownRoute.as_view()),
]

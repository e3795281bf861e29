"""Everything under /api/v2/management/: the apps' routes, the OpenAPI document, and 404 for any other path."""

from django.urls import include, path, re_path

from peatio_mgmt.management_api.schema import swagger
from peatio_mgmt.management_api.tools import ToolViewSet
from peatio_mgmt.management_api.views import UnknownRoute, route

urlpatterns = [
    path("swagger", swagger),
    route("timestamp", ToolViewSet, "post", "timestamp"),
    path("", include("ledger.urls")),
    path("", include("deposits.urls")),
    path("", include("withdraws.urls")),
    path("", include("trades.urls")),
    re_path("", UnknownRoute.as_view()),
]

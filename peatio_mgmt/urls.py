from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from peatio_mgmt.health import healthz
from peatio_mgmt.management_api.gate import gate
from peatio_mgmt.management_api.openapi import swagger
from peatio_mgmt.metrics import metrics_view

urlpatterns = [
    # The operator console's pages (dashboard, reports, two-factor) first: "" replaces the admin index.
    path("admin/", include("operators.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("metrics", metrics_view),
    path("api/v2/management/swagger", csrf_exempt(swagger)),
    # Every other path under the prefix goes to the gate, which answers 404 for what is not a route — line breaks
    # (a %0A in the path) included: `.` alone would leave them to Django's HTML 404.
    re_path(r"^api/v2/management/(?P<path>(?s:.*))\Z", gate),
]

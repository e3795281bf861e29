from django.contrib import admin
from django.urls import include, path

from peatio_mgmt.health import healthz
from peatio_mgmt.management_api import urls as management_api_urls
from peatio_mgmt.metrics import metrics_view

urlpatterns = [
    # The operator console's pages (dashboard, reports, two-factor) first: "" replaces the admin index.
    path("admin/", include("operators.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("metrics", metrics_view),
    # The routes of the apps' viewsets, the OpenAPI document, and 404 for any other path under the prefix: flat,
    # each pattern with its whole path (no nested resolver per request).
    *management_api_urls.urlpatterns,
]

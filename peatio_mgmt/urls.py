from django.contrib import admin
from django.urls import include, path

from peatio_mgmt.health import healthz
from peatio_mgmt.management_api import urls as management_api_urls
from peatio_mgmt.metrics import metrics_view

urlpatterns = [
    # The routes of the apps' viewsets, the OpenAPI document, and 404 for any other path under the prefix: flat,
    # each pattern with its whole path (no nested resolver per request). First: the API is most of the traffic,
    # and no other pattern matches under its prefix (the admin's includes cost ~25k instructions to try and fail).
    *management_api_urls.urlpatterns,
    # The operator console's pages (dashboard, reports, two-factor) before the admin's: "" replaces the admin index.
    path("admin/", include("operators.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("metrics", metrics_view),
]

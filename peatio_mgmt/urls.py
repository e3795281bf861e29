from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # The operator console's pages (dashboard, reports, two-factor) first: "" replaces the admin index.
    path("admin/", include("operators.urls")),
    path("admin/", admin.site.urls),
]

from django.contrib import admin
from django.urls import path

from peatio_mgmt.health import healthz
from peatio_mgmt.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("metrics", metrics_view),
]

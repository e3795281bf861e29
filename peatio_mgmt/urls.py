from django.contrib import admin
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from peatio_mgmt.management_api.gate import gate
from peatio_mgmt.management_api.openapi import swagger

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v2/management/swagger", csrf_exempt(swagger)),
    # Every other path under the prefix goes to the gate, which answers 404 for what is not a route.
    re_path(r"^api/v2/management/(?P<path>.*)\Z", gate),
]

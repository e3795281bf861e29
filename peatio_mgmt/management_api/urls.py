"""Everything under /api/v2/management/: the apps' routes, the OpenAPI document, and 404 for any other path.

The patterns carry the whole path (`views.route`) and are listed flat in the root URLconf: one pattern per route,
no nested resolvers per request. The apps' route lists are named in settings.MANAGEMENT_API_URLCONFS (the project
package imports no app), the most requested first.
"""

from importlib import import_module

from django.conf import settings
from django.urls import re_path

from peatio_mgmt.management_api.schema import swagger
from peatio_mgmt.management_api.tools import ToolViewSet
from peatio_mgmt.management_api.views import PREFIX, UnknownRoute, route

urlpatterns = [
    route("timestamp", ToolViewSet, "post", "timestamp"),
    *(pattern for name in settings.MANAGEMENT_API_URLCONFS for pattern in import_module(name).urlpatterns),
    # with or without one trailing slash, as every route (management-api.md §1.1)
    re_path("^" + PREFIX[1:] + "swagger/?$", swagger),
    # the prefix itself included: a JSON 404 there too, not Django's page (§1.3)
    re_path("^" + PREFIX[1:-1] + "(?:/|$)", UnknownRoute.as_view()),
]

from events.api import EventViewSet
from peatio_mgmt.management_api.views import route

urlpatterns = [
    route("events", EventViewSet, "post", "list"),
]

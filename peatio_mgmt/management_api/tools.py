"""The `tools` scope: POST /timestamp."""

import time

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.views import ManagementViewSet


class TimestampSerializer(serializers.Serializer):
    timestamp = serializers.IntegerField(help_text="Seconds since the Unix epoch.")


class ToolViewSet(ManagementViewSet):
    scopes = {"timestamp": "tools"}

    @extend_schema(responses={201: TimestampSerializer})
    def timestamp(self, request):
        """The server's current time in whole seconds since the Unix epoch."""
        return Response({"timestamp": int(time.time())}, status=201)

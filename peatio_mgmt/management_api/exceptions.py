"""The one exception handler of the management API (DRF's EXCEPTION_HANDLER): every error body is built here.

`Refusal` is a check of the gate that failed (transport, JWS, scope, replay): its status and message go to the
client, its `reason` to the request's log line only. Parameter errors, business rules, a record not found and
anything unexpected are mapped to the contract's bodies (management-api.md §1.6, §2.3).
"""

from __future__ import annotations

import logging

from django.db import transaction
from rest_framework.exceptions import APIException

from peatio_mgmt.errors import BusinessRuleError, RecordNotFound, ServiceUnavailable
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import ParameterError

logger = logging.getLogger("peatio_mgmt.management_api")

NOT_FOUND = {"error": "Couldn't find record."}
INTERNAL_ERROR = {"error": "Internal server error."}
SERVICE_UNAVAILABLE = {"error": "Service unavailable."}


class Refusal(APIException):
    """A check of the gate failed: the status and message the client gets; `reason` is for the log only."""

    def __init__(self, status: int, message: str, *, headers: dict | None = None, reason: str = ""):
        super().__init__(message)
        self.status_code, self.message, self.headers, self.reason = status, message, headers, reason


def exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, Refusal):
        context["request"].refusal_reason = exc.reason
        return Response({"error": exc.message}, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, ParameterError):
        return Response({"error": ", ".join(exc.messages)}, status=422)
    if isinstance(exc, RecordNotFound):
        return Response(NOT_FOUND, status=404)
    if isinstance(exc, BusinessRuleError):
        return Response({"errors": exc.messages}, status=422)
    if isinstance(exc, ServiceUnavailable):
        logger.warning("service unavailable: %s", exc.__cause__ or exc)
        return Response(SERVICE_UNAVAILABLE, status=503)
    view = context.get("view")
    logger.exception("unhandled error in %s", getattr(view, "route", "-"), exc_info=exc)
    # A failed request writes nothing: actions run their writes in one transaction of their own, and a connection
    # left in a failed transaction must not serve the next request.
    if transaction.get_connection().in_atomic_block:
        transaction.set_rollback(True)
    return Response(INTERNAL_ERROR, status=500)

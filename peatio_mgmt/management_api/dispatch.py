"""After the gate: parse a route's parameters, call its handler, map domain errors to the contract's bodies.

This is the one error handler of the API (STYLE.md): nothing else builds error JSON for the routes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import OperationalError, transaction
from psycopg import errors as pg_errors

from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from peatio_mgmt.management_api.params import ParameterError
from peatio_mgmt.management_api.render import ListResult
from peatio_mgmt.management_api.routes import Route

logger = logging.getLogger("peatio_mgmt.management_api")

NOT_FOUND = {"error": "Couldn't find record."}
INTERNAL_ERROR = {"error": "Internal server error."}


@dataclass
class Outcome:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


def run_handler(handler, values: dict):
    """Call the handler; run it once more when PostgreSQL aborted its transaction to break a deadlock.

    A handler's writes are one transaction, wholly rolled back by the abort, so the second run starts clean.
    (Two requests creating the same member's account rows at the same moment can deadlock; it is rare, and
    the loser deserves an answer, not a 500.)
    """
    try:
        return handler(values)
    except OperationalError as error:
        if not isinstance(error.__cause__, (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)):
            raise
        if transaction.get_connection().in_atomic_block:
            raise  # not the handler's own transaction: the caller must roll back
        logger.warning("transaction aborted by the database (%s); running the request again", type(error.__cause__).__name__)
        return handler(values)


def dispatch(route: Route, data: dict | None) -> Outcome:
    """Run the route on the verified `data`; every failure is answered, none escapes as an exception."""
    handler = route.handler
    try:
        values = handler.params.parse(data)
        result = run_handler(handler, values)
    except ParameterError as error:
        return Outcome(422, {"error": ", ".join(error.messages)})
    except RecordNotFound:
        return Outcome(404, NOT_FOUND)
    except BusinessRuleError as error:
        return Outcome(422, {"errors": error.messages})
    except Exception:
        logger.exception("unhandled error in %s %s", route.verb, route.path)
        # A failed request writes nothing: handlers run their writes in one transaction of their own, and a
        # connection left in a failed transaction must not serve the next request.
        if transaction.get_connection().in_atomic_block:
            transaction.set_rollback(True)
        return Outcome(500, INTERNAL_ERROR)
    if isinstance(result, ListResult):
        headers = {"Total": str(result.total), "Page": str(result.page), "Per-Page": str(result.per_page)}
        return Outcome(route.success_status, result.items, headers)
    return Outcome(route.success_status, result)

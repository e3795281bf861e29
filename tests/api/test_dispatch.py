import pytest
from django.db import OperationalError
from psycopg import errors as pg_errors

from peatio_mgmt.management_api.dispatch import dispatch
from peatio_mgmt.management_api.params import Params
from peatio_mgmt.management_api.routes import Route, endpoint


def route_running(handler) -> Route:
    route = Route("test/route", "POST", "tools", "unused")
    route.__dict__["handler"] = endpoint(params=Params())(handler)  # cached_property slot
    return route


def aborted_by(cause: Exception) -> OperationalError:
    error = OperationalError("the database aborted the transaction")
    error.__cause__ = cause
    return error


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_transaction_was_aborted_by_a_deadlock_runs_again_once():
    calls = []

    def handler(values):
        calls.append(1)
        if len(calls) == 1:
            raise aborted_by(pg_errors.DeadlockDetected())
        return {"ok": True}

    outcome = dispatch(route_running(handler), {})
    assert (outcome.status, outcome.body, len(calls)) == (201, {"ok": True}, 2)


@pytest.mark.django_db(transaction=True)
def test_a_second_deadlock_or_another_database_error_answers_500():
    def deadlocked(values):
        raise aborted_by(pg_errors.DeadlockDetected())

    def broken(values):
        raise aborted_by(pg_errors.AdminShutdown())

    for handler in (deadlocked, broken):
        outcome = dispatch(route_running(handler), {})
        assert (outcome.status, outcome.body) == (500, {"error": "Internal server error."})

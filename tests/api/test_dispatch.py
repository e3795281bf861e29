"""An action whose transaction PostgreSQL aborted (deadlock, serialization failure) runs once more."""

import json

import pytest
from django.db import OperationalError
from psycopg import errors as pg_errors

from peatio_mgmt.management_api.tools import ToolViewSet


def aborted_by(cause: Exception) -> OperationalError:
    error = OperationalError("the database aborted the transaction")
    error.__cause__ = cause
    return error


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_transaction_was_aborted_by_a_deadlock_runs_again_once(send, monkeypatch):
    calls = []

    def action(view, request):
        calls.append(1)
        if len(calls) == 1:
            raise aborted_by(pg_errors.DeadlockDetected())
        return original(view, request)

    original = ToolViewSet.timestamp
    monkeypatch.setattr(ToolViewSet, "timestamp", action)
    response = send("timestamp")
    assert (response.status_code, set(json.loads(response.content)), len(calls)) == (201, {"timestamp"}, 2)


@pytest.mark.django_db(transaction=True)
def test_a_second_deadlock_or_another_database_error_answers_500(send, monkeypatch):
    def deadlocked(view, request):
        raise aborted_by(pg_errors.DeadlockDetected())

    def broken(view, request):
        raise aborted_by(pg_errors.AdminShutdown())

    for action in (deadlocked, broken):
        monkeypatch.setattr(ToolViewSet, "timestamp", action)
        response = send("timestamp")
        assert (response.status_code, json.loads(response.content)) == (500, {"error": "Internal server error."})

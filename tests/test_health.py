"""Operations endpoints: /healthz for the load balancer, /metrics for Prometheus, request ids and JSON logs."""

import json
import logging
import re
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.test import Client

from ledger.books import books_check_run
from peatio_mgmt.log import JsonFormatter, RequestIdFilter, request_id
from peatio_mgmt.metrics import TASK_RUNS_KEY
from tests.factories import WithdrawFactory
from withdraws.models import Withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def metric(text: str, name: str, **labels) -> float | None:
    """The value of one sample in an exposition text, None when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # exposition sorts labels
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_healthz_is_ok_when_database_and_redis_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_naming_redis_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failed"] == ["redis"] and body["database"] == "ok"
    assert body["redis"].startswith("error: ")


def test_metrics_count_requests_by_route_and_status(client):
    before = metric(client.get("/metrics").content.decode(), "peatio_http_requests_total", route="/healthz", status="200") or 0

    client.get("/healthz")
    text = client.get("/metrics").content.decode()

    assert metric(text, "peatio_http_requests_total", route="/healthz", status="200") == before + 1
    assert metric(text, "peatio_http_request_duration_seconds_count", route="/healthz") >= 1


def test_metrics_show_withdraws_by_state_and_the_last_books_check(client, member, usd):
    for state in ("submitted", "submitted", "succeed"):
        WithdrawFactory(member=member, currency=usd, type="fiat", tid=f"T{Withdraw.objects.count()}", rid="R",
                        sum=Decimal("2"), fee=Decimal("1"), amount=Decimal("1"), state=state)
    books_check_run()  # the withdraws have no postings: breaches

    text = client.get("/metrics").content.decode()

    assert metric(text, "peatio_withdraws", state="submitted") == 2
    assert metric(text, "peatio_withdraws", state="succeed") == 1
    assert metric(text, "peatio_books_check_ok") == 0
    assert metric(text, "peatio_books_check_breaches") == 9  # 2 x lock pair (2), lock pair + success postings (5)
    assert metric(text, "peatio_books_check_timestamp_seconds") > 0


def test_metrics_count_celery_task_runs_and_failures(client, usd):
    from celery import shared_task

    from ledger.tasks import books_check

    @shared_task(name="tests.failing_task")
    def failing_task():
        raise RuntimeError("boom")

    redis.Redis.from_url(settings.REDIS_URL).delete(TASK_RUNS_KEY)
    books_check.apply()
    failing_task.apply()

    text = client.get("/metrics").content.decode()

    assert metric(text, "peatio_celery_task_runs", task="ledger.tasks.books_check", outcome="success") == 1
    assert metric(text, "peatio_celery_task_runs", task="tests.failing_task", outcome="failure") == 1


def test_request_id_is_echoed_or_made_and_garbage_is_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc")["X-Request-ID"] == "lb-1234.abc"
    made = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_json_log_line_carries_the_request_id():
    record = logging.LogRecord("ledger.books", logging.ERROR, __file__, 1, "books check: %d breaches", (3,), None)
    token = request_id.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)

    line = json.loads(JsonFormatter().format(record))

    assert line["level"] == "ERROR" and line["logger"] == "ledger.books"
    assert line["message"] == "books check: 3 breaches" and line["request_id"] == "req-42"


def test_metrics_label_management_api_requests_by_contract_route(client, api):
    before = metric(client.get("/metrics").content.decode(), "peatio_http_requests_total",
                    route="/api/v2/management/timestamp", status="201") or 0

    assert api.post("/timestamp", {}).status_code == 201
    text = client.get("/metrics").content.decode()

    assert metric(text, "peatio_http_requests_total", route="/api/v2/management/timestamp", status="201") == before + 1

"""Prometheus metrics at GET /metrics.

- Requests by route and status, and their latency: `observe_request(route, status, seconds)`, called for every
  request by MetricsMiddleware (the route is the URL pattern, so ids in paths do not explode the label set).
  Counted in-process; with several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess
  mode) so a scrape sums them all.
- Celery task runs and failures: counted in Redis by task_success / task_failure signals, so the web tier reports
  the runs of every worker on every machine.
- Whatever the apps register on SCRAPE_TIME from their AppConfig.ready(): withdraws and deposits by state
  (`StateCounts`), the last books check (ledger.metrics).
"""

import logging
import os
import time

import redis
from celery.signals import task_failure, task_success
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Model
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

REQUESTS = Counter("peatio_http_requests", "HTTP requests by route and status", ["route", "status"])
LATENCY = Histogram(
    "peatio_http_request_duration_seconds", "HTTP request latency by route", ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASK_RUNS_KEY = "metrics:celery_task_runs"


def observe_request(route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route=route, status=str(status)).inc()
    LATENCY.labels(route=route).observe(seconds)


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        # The management API's gate is one catch-all URL pattern: it names the contract route it served.
        route = getattr(request, "metrics_route", None)
        if route is None:
            match = getattr(request, "resolver_match", None)
            route = "/" + match.route if match and match.route else "unmatched"
        observe_request(route, response.status_code, time.perf_counter() - started)
        return response


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _count_task(task_name: str, outcome: str) -> None:
    try:
        _redis().hincrby(TASK_RUNS_KEY, f"{task_name}|{outcome}", 1)
    except redis.RedisError:
        logger.warning("could not count a %s run of %s", outcome, task_name)


@task_success.connect(dispatch_uid="peatio_mgmt.metrics.task_success")
def _task_succeeded(sender=None, **kwargs):
    _count_task(sender.name, "success")


@task_failure.connect(dispatch_uid="peatio_mgmt.metrics.task_failure")
def _task_failed(sender=None, **kwargs):
    _count_task(sender.name, "failure")


class StateCounts:
    """`name{state}`: the rows of a model with a `state` column, counted in PostgreSQL at scrape time (the apps
    register theirs from AppConfig.ready(); a database that is down leaves the family out)."""

    def __init__(self, model: type[Model], name: str):
        self.model, self.name = model, name

    def collect(self):
        family = GaugeMetricFamily(self.name, f"{self.model.__name__}s by state", labels=["state"])
        try:
            for row in self.model.objects.values("state").annotate(n=Count("id")).order_by():
                family.add_metric([row["state"]], row["n"])
        except DatabaseError:
            logger.warning("metrics: cannot count %s by state", self.name)
            return
        yield family


class TaskRuns:
    """Celery task runs and failures of every worker, from Redis."""

    def collect(self):
        try:
            counts = _redis().hgetall(TASK_RUNS_KEY)
        except redis.RedisError:
            return
        family = GaugeMetricFamily("peatio_celery_task_runs", "Celery task runs by task and outcome (counter)", labels=["task", "outcome"])
        for key, value in sorted(counts.items()):
            task, _, outcome = key.decode().rpartition("|")
            family.add_metric([task, outcome], int(value))
        yield family


# The figures read from PostgreSQL and Redis when Prometheus scrapes; the apps add their collectors to it.
SCRAPE_TIME = CollectorRegistry(auto_describe=False)
SCRAPE_TIME.register(TaskRuns())


def _process_registry():
    from prometheus_client import REGISTRY

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


@require_GET
def metrics_view(request):
    body = generate_latest(_process_registry()) + generate_latest(SCRAPE_TIME)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)

"""GET /healthz: 200 when PostgreSQL and Redis answer, else 503 naming what failed (for the load balancer)."""

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

TIMEOUT_SECONDS = 2


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS).ping()


CHECKS: dict[str, tuple[Callable[[], None], type[Exception]]] = {"database": (_database, DatabaseError), "redis": (_redis, redis.RedisError)}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body: dict = {}
    failed = []
    for name, (check, errors) in CHECKS.items():
        try:
            check()
            body[name] = "ok"
        except errors as error:
            body[name] = f"error: {type(error).__name__}"
            failed.append(name)
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed, **body}, status=503)
    return JsonResponse({"status": "ok", **body})

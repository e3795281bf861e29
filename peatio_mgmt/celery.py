import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")

app = Celery("peatio_mgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import peatio_mgmt.metrics  # noqa: E402,F401  (its Celery signal handlers count task runs and failures)


def all_queues() -> list[str]:
    """Every declared queue: what a worker started without `-Q` consumes."""
    return sorted(queue.name for queue in app.conf.task_queues)

